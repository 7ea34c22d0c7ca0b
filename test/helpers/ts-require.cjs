/*
 * A require hook that lets a plain `node` child process (one that runs inside a test's network
 * namespace, outside vitest) load the project's TypeScript sources directly:
 *   node -r ./test/helpers/ts-require.cjs some-script.ts
 * Each .ts file is transpiled on its own (no type check) to CommonJS.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require(path.join(__dirname, '..', '..', 'node_modules', 'typescript'));

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const output = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      sourceMap: false,
      inlineSourceMap: true,
    },
  });
  module._compile(output.outputText, filename);
};
