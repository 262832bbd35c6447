import { ensureBinaries } from "./build.js";

async function main(argv: string[]): Promise<void> {
  const [cmd] = argv;
  switch (cmd) {
    case "build":
      process.stdout.write(`${await ensureBinaries({ force: argv.includes("--force"), keepWork: argv.includes("--keep-work") })}\n`);
      return;
    default:
      throw new Error(`usage: cli.ts build|up|down`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
