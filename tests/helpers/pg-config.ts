/** Where integration tests find PostgreSQL: TEST_PG* or PG* variables, else the local trust-auth server. */
export function testDatabaseConfig(database?: string): { host: string; port: number; user: string; password?: string; database: string } {
  return {
    host: process.env.TEST_PGHOST ?? process.env.PGHOST ?? '127.0.0.1',
    port: Number(process.env.TEST_PGPORT ?? process.env.PGPORT ?? 5432),
    user: process.env.TEST_PGUSER ?? process.env.PGUSER ?? 'postgres',
    password: process.env.TEST_PGPASSWORD ?? process.env.PGPASSWORD,
    database: database ?? process.env.TEST_PGDATABASE ?? 'test',
  };
}

export function testDatabaseUrl(database: string): string {
  const c = testDatabaseConfig(database);
  const auth = c.password ? `${encodeURIComponent(c.user)}:${encodeURIComponent(c.password)}` : encodeURIComponent(c.user);
  return `postgresql://${auth}@${c.host}:${c.port}/${database}`;
}
