#!/usr/bin/env node
// The built entry point: the bundle made by `npm run build` (run by `prepare` on npm ci).
import { main } from "../dist/bundle/bts-site.mjs";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bts-site: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
