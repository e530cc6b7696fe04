// Reference rendering of INSTPARM placeholders, the way the reference platform does
// it: on the workflow's JSON *text*, before parsing. The `codika` package ships no
// renderer (its deploy uploads the raw text); what it does ship is the scanner its
// validator uses to tell a bare placeholder from one inside a JSON string
// (`quoteBarePlaceholders` in validation/use-case-scripts/workflow-imports.js). That
// scanner is loaded from the installed package and used unchanged to find the bare
// placeholders; each value is written with JSON.stringify, and escaped for the
// string it stands in.
//
// argv[2]: the installed package folder (node_modules/codika).
// stdin: one JSON case a line, {"text": ..., "params": {...}}; stdout: one answer a
// line, {"ok": true, "result": <parsed rendered workflow>} or {"ok": false, "error": ...}
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const source = readFileSync(
  join(process.argv[2], 'dist/validation/use-case-scripts/workflow-imports.js'), 'utf-8');
const start = source.indexOf('function quoteBarePlaceholders(');
const end = source.indexOf('\n}\n', start);
if (start < 0 || end < 0) throw new Error('quoteBarePlaceholders not found in codika');
const quoteBare = new Function(`${source.slice(start, end + 2)}; return quoteBarePlaceholders;`)();

const PH = /\{\{INSTPARM_([A-Z0-9_]+)_MRAPTSNI\}\}/g;
// Markers that cannot occur in JSON text (NUL is escaped in any valid JSON).
const BARE_OPEN = '\u0000B<';

function render(text, params) {
  // The package's scanner only inserts a quote before and after each bare
  // placeholder: walking both texts together, a character that differs is such a quote.
  const quoted = quoteBare(text);
  let out = '';
  let j = 0;
  for (let i = 0; i < text.length; i++, j++) {
    if (quoted[j] !== text[i]) {
      const m = /^\{\{INSTPARM_[A-Z0-9_]+_MRAPTSNI\}\}/.exec(text.slice(i));
      out += BARE_OPEN + m[0];
      i += m[0].length - 1; j += m[0].length + 1;
      continue;
    }
    out += text[i];
  }
  const missing = [];
  const value = (name) => {
    if (!(name in params)) { missing.push(name); return null; }
    return params[name];
  };
  // Bare: the value's JSON text. Inside a string: that text, escaped for the string.
  const rendered = out.replace(/\u0000B<\{\{INSTPARM_([A-Z0-9_]+)_MRAPTSNI\}\}|\{\{INSTPARM_([A-Z0-9_]+)_MRAPTSNI\}\}/g,
    (all, bare, inner) => {
      if (bare !== undefined) return JSON.stringify(value(bare));
      return JSON.stringify(JSON.stringify(value(inner))).slice(1, -1);
    });
  if (missing.length) throw new Error(`missing parameters: ${missing.join(', ')}`);
  return JSON.parse(rendered);
}

for await (const line of createInterface({ input: process.stdin })) {
  let answer;
  try {
    const { text, params } = JSON.parse(line);
    answer = { ok: true, result: render(text, params) };
  } catch (error) {
    answer = { ok: false, error: String(error.message ?? error) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
