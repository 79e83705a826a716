// Usage: DATABASE_URL=postgres://... node dist/src/migrate-cli.js
import { migrate } from './migrate.js';

const url = process.env['DATABASE_URL'];
if (!url) {
  console.error('DATABASE_URL is not set');
  process.exit(2);
}
migrate(url).then(
  (r) => console.log(`migrations: ${r.applied.length} applied (${r.applied.join(', ') || 'none'}), ${r.skipped.length} already there`),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
