/**
 * Reading GraphQL requests for the simulator: graphql-js parses them and validates them against
 * Shopify's schema (admin-schema.ts); the simulator's resolvers then walk plain field trees.
 */
import { Kind, TypeInfo, isObjectType, parse, validate, visit, visitWithTypeInfo, type DocumentNode, type FragmentDefinitionNode, type GraphQLError, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode, type ValueNode } from 'graphql';

export type GraphqlValue = string | number | boolean | null | GraphqlValue[] | { [k: string]: GraphqlValue } | { $var: string };

export interface FieldNode {
  alias: string;
  name: string;
  args: Record<string, GraphqlValue>;
  selections: FieldNode[];
  /**
   * The concrete object type a fragment selected this field for (`... on DiscountCodeBasic { … }`):
   * such fields apply only to records of that type, so a selection's cost takes the costliest type
   * (Shopify: an interface or union costs the maximum of its possible selections). Absent for a field
   * that applies whatever the type (and, without a schema, for every field: summed, the safe side).
   */
  on?: string;
}

export interface OperationNode {
  kind: 'query' | 'mutation';
  name?: string;
  selections: FieldNode[];
  /**
   * Deprecated fields the document selects, as `Type.field` (what Shopify lists in
   * `X-Shopify-API-Deprecated-Reason` since 2025-04); empty without a schema.
   */
  deprecations: string[];
}

export class GraphqlSyntaxError extends Error {}

/** A request Shopify's schema rejects (unknown field, wrong argument, ...): graphql-ruby's wording, as Shopify answers. */
export class GraphqlValidationError extends Error {
  constructor(readonly errors: Array<{ message: string; locations?: readonly { line: number; column: number }[]; extensions?: Record<string, unknown> }>) {
    super(errors.map((e) => e.message).join('; '));
  }
}

function valueOf(node: ValueNode): GraphqlValue {
  switch (node.kind) {
    case Kind.VARIABLE: return { $var: node.name.value };
    case Kind.INT: return Number(node.value);
    case Kind.FLOAT: return Number(node.value);
    case Kind.STRING: return node.value;
    case Kind.BOOLEAN: return node.value;
    case Kind.NULL: return null;
    case Kind.ENUM: return node.value;
    case Kind.LIST: return node.values.map(valueOf);
    case Kind.OBJECT: return Object.fromEntries(node.fields.map((f) => [f.name.value, valueOf(f.value)]));
  }
}

/** graphql-js' message for an unknown field, in graphql-ruby's words (what Shopify sends). */
function shopifyError(error: GraphQLError): { message: string; locations?: readonly { line: number; column: number }[]; extensions?: Record<string, unknown> } {
  const unknownField = /^Cannot query field "([^"]+)" on type "([^"]+)"\./.exec(error.message);
  if (unknownField) {
    return { message: `Field '${unknownField[1]}' doesn't exist on type '${unknownField[2]}'`, locations: error.locations, extensions: { code: 'undefinedField', typeName: unknownField[2], fieldName: unknownField[1] } };
  }
  const unknownArg = /^Unknown argument "([^"]+)" on field "([^".]+)\.([^"]+)"\./.exec(error.message);
  if (unknownArg) {
    return { message: `Field '${unknownArg[3]}' doesn't accept argument '${unknownArg[1]}'`, locations: error.locations, extensions: { code: 'argumentNotAccepted', name: unknownArg[3], typeName: 'Field', argumentName: unknownArg[1] } };
  }
  return { message: error.message, locations: error.locations, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } };
}

/**
 * Parses a request with graphql-js and, given a schema, validates it (Shopify's schema: a query
 * Shopify would reject is rejected). Fragments are inlined: the resolvers see plain field trees.
 * Throws {@link GraphqlSyntaxError} for a document that does not parse, {@link GraphqlValidationError}
 * for one the schema rejects.
 */
export function parseGraphql(source: string, operationName?: string, schema?: GraphQLSchema): OperationNode {
  let document: DocumentNode;
  try {
    document = parse(source);
  } catch (error) {
    throw new GraphqlSyntaxError((error as Error).message);
  }
  if (schema) {
    const errors = validate(schema, document);
    if (errors.length > 0) throw new GraphqlValidationError(errors.map(shopifyError));
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    else if (def.kind === Kind.OPERATION_DEFINITION) operations.push(def);
  }
  const op = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!op) throw new GraphqlSyntaxError(operationName ? `no operation named "${operationName}"` : 'the document must hold exactly one operation or name one');
  if (op.operation === 'subscription') throw new GraphqlSyntaxError('subscriptions are not supported');
  // Fields of a fragment on a concrete object type apply to that type only.
  const onType = (condition: string | undefined, selected: FieldNode[]): FieldNode[] => {
    if (!condition || !schema || !isObjectType(schema.getType(condition))) return selected;
    return selected.map((f) => (f.on ? f : { ...f, on: condition }));
  };
  const fields = (set: SelectionSetNode | undefined, seen: Set<string> = new Set()): FieldNode[] => {
    const out: FieldNode[] = [];
    for (const sel of set?.selections ?? []) {
      if (sel.kind === Kind.FIELD) {
        out.push({
          alias: sel.alias?.value ?? sel.name.value,
          name: sel.name.value,
          args: Object.fromEntries((sel.arguments ?? []).map((a) => [a.name.value, valueOf(a.value)])),
          selections: fields(sel.selectionSet, seen),
        });
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        out.push(...onType(sel.typeCondition?.name.value, fields(sel.selectionSet, seen)));
      } else {
        const fragment = fragments.get(sel.name.value);
        if (!fragment) throw new GraphqlSyntaxError(`unknown fragment ${sel.name.value}`);
        if (seen.has(sel.name.value)) throw new GraphqlSyntaxError(`fragment ${sel.name.value} spreads itself`);
        out.push(...onType(fragment.typeCondition.name.value, fields(fragment.selectionSet, new Set([...seen, sel.name.value]))));
      }
    }
    return out;
  };
  return { kind: op.operation, name: op.name?.value, selections: fields(op.selectionSet), deprecations: schema ? deprecatedFields(schema, document) : [] };
}

/** `Type.field` of every deprecated field the document selects, in order of first use. */
function deprecatedFields(schema: GraphQLSchema, document: DocumentNode): string[] {
  const found = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  visit(document, visitWithTypeInfo(typeInfo, {
    Field() {
      const field = typeInfo.getFieldDef();
      const parent = typeInfo.getParentType();
      if (field?.deprecationReason != null && parent) found.add(`${parent.name}.${field.name}`);
    },
  }));
  return [...found];
}

export function resolveArgs(args: Record<string, GraphqlValue>, variables: Record<string, unknown>): Record<string, unknown> {
  const walk = (v: GraphqlValue): unknown => {
    if (v && typeof v === 'object' && !Array.isArray(v) && '$var' in v && Object.keys(v).length === 1) return variables[(v as { $var: string }).$var] ?? null;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x as GraphqlValue)]));
    return v;
  };
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, walk(v)]));
}
