/** Runs the CLI from the sources (tests, `node --import tsx src/cli.ts ...`). */
import { main } from "./main.js";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bts-site: ${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
