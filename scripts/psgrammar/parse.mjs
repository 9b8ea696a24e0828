// Parses PowerShell files with the real grammar (tree-sitter-powershell)
// and reports every ERROR or MISSING node as file:line:col. Exit 0 when
// every file parses cleanly, 1 otherwise, 2 on a usage or load failure.
//   node parse.mjs FILE...
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Parser, Language } from "web-tree-sitter";

const require = createRequire(import.meta.url);
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node parse.mjs FILE...");
  process.exit(2);
}
await Parser.init();
const wasm = require.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm");
const parser = new Parser();
parser.setLanguage(await Language.load(wasm));

let bad = 0;
for (const file of files) {
  const tree = parser.parse(readFileSync(file, "utf8"));
  const problems = [];
  const walk = (node) => {
    if (node.isError || node.isMissing) {
      const p = node.startPosition;
      const what = node.isMissing ? `missing ${node.type}` : `syntax error near ${JSON.stringify(node.text.slice(0, 40))}`;
      problems.push(`${file}:${p.row + 1}:${p.column + 1}: ${what}`);
      return;
    }
    for (const child of node.children) walk(child);
  };
  walk(tree.rootNode);
  if (problems.length > 0) {
    bad++;
    for (const p of problems) console.log(p);
  } else {
    console.log(`${file}: ok (${tree.rootNode.descendantCount} nodes)`);
  }
}
process.exit(bad > 0 ? 1 : 0);
