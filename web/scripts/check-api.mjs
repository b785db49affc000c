// Regenerates the OpenAPI schema and its TypeScript types into a temp dir and fails when they
// differ from the committed src/api/openapi.json and src/api/schema.d.ts (API drift).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const web = new URL("..", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "atum-api-"));
try {
  const json = execFileSync(join(web, "../atum-desk"), ["openapi"], { cwd: web, encoding: "utf8", maxBuffer: 64 << 20 });
  writeFileSync(join(tmp, "openapi.json"), json);
  execFileSync(
    join(web, "node_modules/.bin/openapi-typescript"),
    [join(tmp, "openapi.json"), "-o", join(tmp, "schema.d.ts")],
    { cwd: web, stdio: ["ignore", "ignore", "inherit"] },
  );
  let drift = false;
  for (const name of ["openapi.json", "schema.d.ts"]) {
    const committed = readFileSync(join(web, "src/api", name), "utf8");
    const fresh = readFileSync(join(tmp, name), "utf8");
    if (committed !== fresh) {
      drift = true;
      console.error(`src/api/${name} is out of date with the API (run: npm run gen:api)`);
    }
  }
  if (drift) process.exit(1);
  console.log("API types are up to date with the OpenAPI schema.");
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
