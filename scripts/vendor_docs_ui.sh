#!/usr/bin/env bash
# Re-create the vendored Swagger UI in rest/static/swagger-ui/ from the npm registry.
#
# The REST API's docs page (/schema) must work with no internet access, so the
# browser build of Swagger UI is kept in the repository: swagger-ui-dist's
# self-contained bundle (React and its other dependencies compiled in) and its
# stylesheet, with the licence, the notice and the bundle's own list of the
# licences of what it contains. The version and file digests are pinned: a
# registry that serves anything else stops this script. Only the vendored files
# are replaced; the project's own files in the folder (docs-init.js) are left alone.
#
# Needs: npm (registry access), tar, sha256sum. Usage: scripts/vendor_docs_ui.sh
set -euo pipefail

SWAGGER_UI_VERSION=5.35.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/rest/static/swagger-ui"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "swagger-ui-dist@$SWAGGER_UI_VERSION" >/dev/null
mkdir dist out
tar -xzf "swagger-ui-dist-$SWAGGER_UI_VERSION.tgz" -C dist --strip-components=1

# The bundle's first line points at swagger-ui-bundle.js.LICENSE.txt: kept under that name.
cp dist/swagger-ui-bundle.js dist/swagger-ui-bundle.js.LICENSE.txt dist/swagger-ui.css out/
cp dist/LICENSE out/LICENSE.swagger-ui.txt
cp dist/NOTICE out/NOTICE.swagger-ui.txt

(cd out && sha256sum -c --quiet) <<'EOF'
e6a898692f2d768e807c3ba4626068a69a2c5dd960dd6c76f3e4d3a3de180af2  swagger-ui-bundle.js
37eb6e7e59aed57b2c1acf076574b818ea07b74265717e0bd67b59e0baf9abbb  swagger-ui-bundle.js.LICENSE.txt
5ed08757e53da3e026d6cbecc61fe5d43585c9560b302d534ad56692519a273d  swagger-ui.css
cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30  LICENSE.swagger-ui.txt
0d20d1adef18aee3f40dd258172155521ce702ac445cb5f7b7d60ed32dad2fb2  NOTICE.swagger-ui.txt
EOF

cat >out/THIRD_PARTY_NOTICES.txt <<EOF
Third-party software in rest/static/swagger-ui/

swagger-ui-bundle.js and swagger-ui.css are swagger-ui-dist@$SWAGGER_UI_VERSION
(Apache-2.0: LICENSE.swagger-ui.txt, NOTICE.swagger-ui.txt), vendored from the
npm registry by scripts/vendor_docs_ui.sh. swagger-ui-bundle.js also bundles
the packages whose licence headers are collected, as published, in
swagger-ui-bundle.js.LICENSE.txt.
EOF

mkdir -p "$dest"
cp out/* "$dest/"
echo "vendored swagger-ui-dist@$SWAGGER_UI_VERSION into $dest"
