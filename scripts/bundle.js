#!/usr/bin/env node
// Bundles the built application into one ES module, dist/bundle/bts-site.mjs, which bin/bts-site.js
// runs. One file loads faster and keeps less code resident than a few hundred modules (see
// docs/performance.md). Native addons and what is loaded only on some boards stay external.
import { rmSync } from "node:fs";
import { build } from "esbuild";

rmSync("dist/bundle", { recursive: true, force: true });
await build({
  entryPoints: ["src/main.ts"],
  // Code only some commands need (the simulator, the demo) goes to chunks loaded on demand.
  outdir: "dist/bundle",
  entryNames: "bts-site",
  chunkNames: "[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  legalComments: "none",
  external: ["better-sqlite3", "@serialport/bindings-cpp", "onoff", "epoll"],
  // mqtt.js and mqtt-packet's `bl` each carry readable-stream 4, a copy of Node's own streams for
  // browsers: Node's `stream` has the same API, and two copies of it less are ~2 MB of resident memory
  // less (docs/performance.md). Tests run the sources (with readable-stream) and the bundle alike.
  alias: { "readable-stream": "node:stream" },
  // Bundled CommonJS dependencies call require(); give them one.
  banner: {
    js: "import { createRequire as __btsCreateRequire } from 'node:module'; const require = __btsCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
