#!/usr/bin/env bash
# Re-create the vendored GraphiQL explorer in resolvers/static/graphiql/ from the npm registry.
#
# The explorer must work with no internet access, so its browser build is kept
# in the repository: GraphiQL's self-contained UMD build (the last major that
# ships one) and the React 18 UMD builds it runs on (React 19 has none).
# Versions and file digests are pinned: a registry that serves anything else
# stops this script. Only the vendored files and notices are replaced; the
# project's own files in the folder (graphiql-init.js) are left alone.
#
# Needs: npm (registry access), node, tar, sha256sum. Usage: scripts/vendor_graphiql.sh
set -euo pipefail

GRAPHIQL_VERSION=4.1.2
REACT_VERSION=18.3.1
# The graphql-js release compiled into graphiql@4.1.2's UMD build (its `version` string).
GRAPHQL_VERSION=16.11.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/resolvers/static/graphiql"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "graphiql@$GRAPHIQL_VERSION" "react@$REACT_VERSION" "react-dom@$REACT_VERSION" >/dev/null
for pinned in "graphiql-$GRAPHIQL_VERSION" "react-$REACT_VERSION" "react-dom-$REACT_VERSION"; do
    name="${pinned%-*}"
    mkdir "$name"
    tar -xzf "$pinned.tgz" -C "$name" --strip-components=1
done

mkdir out
cp graphiql/graphiql.min.js graphiql/graphiql.min.css out/
cp react/umd/react.production.min.js react-dom/umd/react-dom.production.min.js out/
cp graphiql/LICENSE out/LICENSE.graphiql.txt
cp react/LICENSE out/LICENSE.react.txt
cp react-dom/LICENSE out/LICENSE.react-dom.txt

(cd out && sha256sum -c --quiet) <<'EOF'
867226ba8af5ce7949903fc53932f78dac9f4bfc6cc8da0fd3869b8bc6c5256b  graphiql.min.js
30487e07635d312a63f647b140d37740a73c53332b0975bf4b1fe985ca6ec885  graphiql.min.css
d949f1c3687aedadcedac85261865f29b17cd273997e7f6b2bfc53b2f9d4c4dd  react.production.min.js
35f4f974f4b2bcd44da73963347f8952e341f83909e4498227d4e26b98f66f0d  react-dom.production.min.js
EOF

# Notices for what graphiql.min.js bundles: the packages named in its source map.
node - graphiql/graphiql.min.js.map >bundled.txt <<'EOF'
const map = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
// Sources outside node_modules are graphiql's monorepo siblings, published under these names.
const siblings = {
  "graphiql-react": "@graphiql/react", "graphiql-toolkit": "@graphiql/toolkit",
  "graphiql-plugin-doc-explorer": "@graphiql/plugin-doc-explorer",
  "graphiql-plugin-history": "@graphiql/plugin-history",
  "codemirror-graphql": "codemirror-graphql",
  "graphql-language-service": "graphql-language-service",
};
const names = new Set();
for (const source of map.sources) {
  const found = [...source.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  if (found.length) names.add(found[found.length - 1][1]);
  else {
    const sibling = source.match(/^\.\.\/\.\.\/([^/]+)\//);
    if (sibling && siblings[sibling[1]]) names.add(siblings[sibling[1]]);
  }
}
names.delete("react"); // react/jsx-runtime: React's own licence, vendored above
names.delete("react-dom");
console.log([...names].sort().join("\n"));
EOF

mkdir deps
(
    cd deps
    npm init -y >/dev/null
    npm install --silent --ignore-scripts --no-audit --no-fund --legacy-peer-deps \
        "graphiql@$GRAPHIQL_VERSION" "graphql@$GRAPHQL_VERSION" >/dev/null
    missing=()
    while read -r name; do
        [ -f "node_modules/$name/package.json" ] || missing+=("$name")
    done <../bundled.txt
    if [ "${#missing[@]}" -gt 0 ]; then
        npm install --silent --ignore-scripts --no-audit --no-fund --legacy-peer-deps \
            "${missing[@]}" >/dev/null
    fi
)

node - "$GRAPHIQL_VERSION" "$REACT_VERSION" bundled.txt >out/THIRD_PARTY_NOTICES.txt <<'EOF'
const fs = require("fs");
const path = require("path");
const [graphiql, react, list] = process.argv.slice(2);
const names = fs.readFileSync(list, "utf8").split("\n").filter(Boolean);
const rule = "=".repeat(78);
const out = [
  "Third-party software in resolvers/static/graphiql/",
  "",
  `graphiql.min.js and graphiql.min.css are graphiql@${graphiql} (MIT, LICENSE.graphiql.txt).`,
  `react.production.min.js is react@${react} and react-dom.production.min.js is`,
  `react-dom@${react} (MIT, LICENSE.react.txt and LICENSE.react-dom.txt).`,
  "",
  "graphiql.min.js also bundles the packages below (the list is read from the",
  "build's source map). Each licence text is taken from the package as resolved",
  "from the npm registry when the files were vendored (scripts/vendor_graphiql.sh).",
  "",
];
for (const name of names) {
  const dir = path.join("deps/node_modules", name);
  const meta = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const licence = typeof meta.license === "string" ? meta.license : JSON.stringify(meta.license);
  const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  out.push(rule, `${name}@${meta.version} (${licence})`, rule, "");
  if (file) out.push(fs.readFileSync(path.join(dir, file), "utf8").trim());
  else if (name.startsWith("@graphiql/"))
    out.push(`Part of the GraphiQL project, under its ${licence} licence: see LICENSE.graphiql.txt.`);
  else out.push(`No licence file in the package; its package.json declares ${licence}.`);
  out.push("");
}
process.stdout.write(out.join("\n"));
EOF

mkdir -p "$dest"
cp out/* "$dest/"
echo "vendored graphiql@$GRAPHIQL_VERSION, react@$REACT_VERSION, react-dom@$REACT_VERSION into $dest"
