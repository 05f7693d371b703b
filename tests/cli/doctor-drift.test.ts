/** How doctor turns a tenant's subscription drift into findings (`withSubscriptionDrift`). */
import { describe, expect, it } from 'vitest';
import { withSubscriptionDrift, type DoctorTenantReport } from '../../src/cli/doctor.js';

const report = { tenantId: 't', shopDomain: 't.myshopify.com', isActive: true, findings: [] } as unknown as DoctorTenantReport;

describe('doctor: subscription drift', () => {
  it('a subscription that trims (includeFields) or filters deliveries is a problem, like a wrong uri', () => {
    const out = withSubscriptionDrift(report, {
      inSync: false, missing: [], extra: [],
      mismatched: [{ topic: 'products/update', problems: ['includeFields'] }, { topic: 'orders/create', problems: ['filter'] }, { topic: 'orders/paid', problems: ['uri'] }],
    });
    expect(out.findings.map((f) => [f.severity, f.message.split(' (')[0]])).toEqual([
      ['problem', 'wrong uri: orders/paid'],
      ['problem', 'wrong includeFields: products/update'],
      ['problem', 'wrong filter: orders/create'],
    ]);
  });
});
