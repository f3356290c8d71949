// The file a document reader process starts from. The reader is TypeScript, and a
// forked process does not inherit vitest's transform; registering tsx here makes it
// load the same way under `npm start`, `npm run ingest`, the tests and benchmarks.
import { register } from 'tsx/esm/api';

register();
await import('./reader-process.ts');
