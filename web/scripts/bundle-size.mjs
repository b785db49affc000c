// Prints the size of every built chunk and of the initial JS (entry + modulepreloads, gzipped),
// fails over the budget, and fails if web/dist references anything outside the host.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

const DIST = new URL("../dist/", import.meta.url).pathname;
const BUDGET_KB = 250;

const kb = (n) => (n / 1024).toFixed(1).padStart(7) + " KB";
const gz = (path) => gzipSync(readFileSync(path), { level: 9 }).length;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const html = readFileSync(join(DIST, "index.html"), "utf8");
const initial = new Set(
  [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/?([^"]+\.js)"/g)].map((m) => m[1]),
);
const initialCss = [...html.matchAll(/<link[^>]*rel="stylesheet"[^>]*href="\/?([^"]+\.css)"/g)].map((m) => m[1]);

const files = walk(DIST).filter((f) => /\.(js|css)$/.test(f)).sort();
console.log("\nchunk                                              raw        gzip   initial");
let initialGz = 0;
for (const file of files) {
  const rel = relative(DIST, file);
  const isInitial = initial.has(rel) || initialCss.includes(rel);
  const g = gz(file);
  if (initial.has(rel)) initialGz += g;
  console.log(`${rel.padEnd(46)} ${kb(statSync(file).size)} ${kb(g)}   ${isInitial ? "yes" : ""}`);
}
console.log(`\ninitial JS (gzip): ${(initialGz / 1024).toFixed(1)} KB of ${BUDGET_KB} KB budget`);

// No external URL may appear in the served files (XML namespace identifiers are not fetched).
const offenders = [];
for (const file of walk(DIST).filter((f) => /\.(js|css|html|svg|json|txt)$/.test(f))) {
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)]*/gi)) {
    if (/^http:\/\/www\.w3\.org\//.test(m[0])) continue;
    if (!/^https?:/.test(m[0])) continue;
    offenders.push(`${relative(DIST, file)}: ${m[0].slice(0, 80)}`);
  }
}
if (offenders.length) {
  console.error("\nExternal URLs found in dist:\n  " + [...new Set(offenders)].join("\n  "));
  process.exit(1);
}
console.log("external URLs in dist: none");
if (initialGz / 1024 > BUDGET_KB) {
  console.error(`Initial JS over budget: ${(initialGz / 1024).toFixed(1)} KB > ${BUDGET_KB} KB`);
  process.exit(1);
}
