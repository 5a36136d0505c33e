// Builds Accord's front-end into frontend/build, which Django collects as static files.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, "frontend", "build");
const govuk = join(root, "node_modules", "govuk-frontend", "dist", "govuk");
const moj = join(root, "node_modules", "@ministryofjustice", "frontend", "moj");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "accord"), { recursive: true });

for (const name of ["accord", "moj"]) {
  const css = sass.compile(join(root, "frontend", `${name}.scss`), {
    style: "compressed",
    importers: [new sass.NodePackageImporter()],
    loadPaths: [root],
    quietDeps: true,
    silenceDeprecations: ["import", "global-builtin"],
  });
  writeFileSync(join(out, "accord", `${name}.css`), css.css);
}

cpSync(join(govuk, "assets"), join(out, "govuk", "assets"), { recursive: true });
cpSync(join(govuk, "govuk-frontend.min.js"), join(out, "govuk", "govuk-frontend.min.js"));
cpSync(join(moj, "assets"), join(out, "moj", "assets"), { recursive: true });
cpSync(join(moj, "moj-frontend.min.js"), join(out, "moj", "moj-frontend.min.js"));
const autocomplete = join(root, "node_modules", "accessible-autocomplete", "dist");
// (With their source maps: the files name them, and collectstatic's manifest follows them.)
for (const name of [
  "accessible-autocomplete.min.js",
  "accessible-autocomplete.min.js.map",
  "accessible-autocomplete.min.css",
  "accessible-autocomplete.min.css.map",
]) {
  cpSync(join(autocomplete, name), join(out, "autocomplete", name));
}
cpSync(join(root, "node_modules", "axe-core", "axe.min.js"), join(out, "testing", "axe.min.js"));
cpSync(join(root, "frontend", "js"), join(out, "accord"), { recursive: true });
console.log("Built front-end assets into frontend/build");
