// Evaluate a use case's config.ts for real and print what it exports, as JSON.
//
// argv[2]: the config.ts to import (in a folder whose package.json says
// "type": "module" and whose node_modules holds codika). Node strips the types
// (--experimental-strip-types). stdout: {"workflowFiles": [...], "configuration":
// {...}, "dataIngestion": {...} | null}; on failure exit 3 with {"error": {"message",
// "line", "column"}} on stdout.
import { pathToFileURL } from 'node:url';
import { basename } from 'node:path';

function located(error, file) {
  // A syntax error names the file and line in its stack ("file:///...config.ts:12").
  const text = String(error && error.stack || error);
  const at = new RegExp(basename(file).replace('.', '\\.') + ':(\\d+)(?::(\\d+))?').exec(text);
  return {
    message: String(error && error.message || error),
    line: at ? Number(at[1]) : null,
    column: at && at[2] ? Number(at[2]) : null,
  };
}

const file = process.argv[2];
let mod;
try {
  mod = await import(pathToFileURL(file).href);
} catch (error) {
  process.stdout.write(JSON.stringify({ error: located(error, file) }));
  process.exit(3);
}
try {
  const configuration = typeof mod.getConfiguration === 'function'
    ? await mod.getConfiguration() : null;
  const dataIngestion = typeof mod.getDataIngestionConfig === 'function'
    ? await mod.getDataIngestionConfig() : null;
  const workflowFiles = Array.isArray(mod.WORKFLOW_FILES) ? mod.WORKFLOW_FILES : null;
  process.stdout.write(JSON.stringify({ workflowFiles, configuration, dataIngestion }));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: located(error, file) }));
  process.exit(3);
}
