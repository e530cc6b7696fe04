// Evaluate a use case's config.ts for real and print what it exports, as JSON.
//
// argv[2]: the config.ts to import (in a folder whose package.json says
// "type": "module" and whose node_modules holds codika). Node strips the types
// (--experimental-strip-types). stdout: {"workflowFiles": [...], "configuration":
// {...}, "dataIngestion": {...} | null}; on failure exit 3 with {"error": {"message",
// "line", "column"}} on stdout. The answer is the last line, after MARK: whatever
// config.ts itself prints comes before it (console output goes to stderr).
import { pathToFileURL } from 'node:url';
import { basename } from 'node:path';

function located(error, file) {
  // A syntax error names the file and line in its stack ("file:///...config.ts:12").
  const text = String(error && error.stack || error);
  const at = new RegExp(basename(file).replace('.', '\\.') + ':(\\d+)(?::(\\d+))?').exec(text);
  let message = String(error && error.message || error);
  if (error && error.code === 'ERR_ACCESS_DENIED' && error.permission) {
    // Node's own wording suggests a flag the user cannot pass: say what is allowed.
    message = `ERR_ACCESS_DENIED: config.ts may only read its use-case folder and the ` +
      `codika package, and may not write files or start processes (denied: ` +
      `${error.permission}${error.resource ? ' ' + error.resource : ''})`;
  }
  return {
    message,
    line: at ? Number(at[1]) : null,
    column: at && at[2] ? Number(at[2]) : null,
  };
}

const MARK = '\u0000codika-config\u0000';
const answer = (value) => process.stdout.write(`\n${MARK}${JSON.stringify(value)}\n`);
console.log = console.info = console.debug = console.error;

const file = process.argv[2];
let mod;
try {
  mod = await import(pathToFileURL(file).href);
} catch (error) {
  answer({ error: located(error, file) });
  process.exit(3);
}
try {
  const configuration = typeof mod.getConfiguration === 'function'
    ? await mod.getConfiguration() : null;
  const dataIngestion = typeof mod.getDataIngestionConfig === 'function'
    ? await mod.getDataIngestionConfig() : null;
  const workflowFiles = Array.isArray(mod.WORKFLOW_FILES) ? mod.WORKFLOW_FILES : null;
  answer({ workflowFiles, configuration, dataIngestion });
} catch (error) {
  answer({ error: located(error, file) });
  process.exit(3);
}
