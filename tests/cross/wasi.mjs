// Runs a wasm32-wasip1 program under node's WASI (run.sh): `node wasi.mjs PROGRAM.wasm`. The
// program gets this process's environment and standard streams, and its exit code becomes this
// process's. A trap (a Rust panic, with panic=abort) exits 134, as SIGABRT would, so that a crash
// can never pass for a refusal's exit 1.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { WASI } from 'node:wasi';

const program = process.argv[2];
const wasi = new WASI({
  version: 'preview1',
  args: [basename(program, '.wasm')],
  env: process.env,
  returnOnExit: true,
});
try {
  const module = await WebAssembly.compile(await readFile(program));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  process.exitCode = wasi.start(instance);
} catch (error) {
  console.error(`wasi.mjs: ${program} trapped: ${error}`);
  process.exitCode = 134;
}
