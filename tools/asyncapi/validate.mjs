// Parse an AsyncAPI document (read from stdin) with the official parser and print its
// diagnostics as JSON. Exit 0 only when a document came back and nothing is an error.
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);

const { document, diagnostics } = await new Parser().parse(Buffer.concat(chunks).toString("utf8"));
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
const report = diagnostics.map((d) => ({
  severity: d.severity,
  code: d.code,
  message: d.message,
  path: d.path.join("/"),
}));
process.stdout.write(JSON.stringify({ parsed: document !== undefined, errors: errors.length, diagnostics: report }) + "\n");
process.exit(document !== undefined && errors.length === 0 ? 0 : 1);
