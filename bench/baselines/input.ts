// A baseline process's input (JSON in argv) and its one-line JSON output.
export function inputOf<T>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error("usage: node <baseline>.js '<json input>'");
  return JSON.parse(raw) as T;
}

export function report(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** CPU time (user + system) this process has used, in ms. */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
