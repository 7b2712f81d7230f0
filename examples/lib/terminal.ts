/**
 * Ctrl-C for a program started through package-manager wrappers (`npx pnpm start`).
 *
 * A terminal sends SIGINT to its whole foreground process group: npx, pnpm, the shell and tsx
 * each get it too, and the wrappers report "Command failed with signal SIGINT" (and a non-zero
 * exit) even when the server shut down cleanly. In raw mode the terminal sends the keystroke as a
 * byte instead, so only this process turns it into its own SIGINT: the server's fast shutdown
 * runs, it exits 0, and every wrapper exits 0 after it.
 */

const CTRL_C = 0x03;
const CTRL_BACKSLASH = 0x1c;

/**
 * When stdin is a terminal, read Ctrl-C (and Ctrl-\) as keystrokes and raise SIGINT (SIGQUIT)
 * in this process only. Does nothing when stdin is not a terminal (CI, a pipe, a service manager),
 * where signals arrive as usual. Returns whether it took over the keys.
 */
export function signalsFromKeys(): boolean {
  const stdin = process.stdin;
  if (!stdin.isTTY) return false;
  stdin.setRawMode(true);
  stdin.on('data', (chunk: Buffer) => {
    if (chunk.includes(CTRL_C)) process.kill(process.pid, 'SIGINT');
    else if (chunk.includes(CTRL_BACKSLASH)) process.kill(process.pid, 'SIGQUIT');
  });
  // Reading keeps the loop alive; the server decides when the process ends, not the terminal.
  stdin.unref();
  return true;
}
