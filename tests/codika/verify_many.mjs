// Run the `codika` package's own use-case validator (what `codika verify use-case`
// runs) on many folders in one process. argv[2]: node_modules/codika; stdin: a JSON
// list of folders; stdout: {folder: [rule ids of its findings]}.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const { validateUseCase } = await import(
  pathToFileURL(join(process.argv[2], 'dist/validation/runner.js')).href);
const folders = JSON.parse(readFileSync(0, 'utf-8'));
const out = {};
for (const path of folders) {
  const result = await validateUseCase({ path });
  out[path] = [...new Set(result.findings.map((f) => f.rule))].sort();
}
process.stdout.write(JSON.stringify(out));
