/** Entry point of the modem simulator CLI alone: `node --import tsx src/sim/cliMain.ts --link ...`. */
import { modemSimCommand } from "./cli.js";

process.exit(await modemSimCommand(process.argv.slice(2)));
