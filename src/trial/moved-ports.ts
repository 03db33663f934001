// The trial keeps its ports from run to run (a Jabber client is set up for them), but another
// program may have taken one since: then that server moves to a free port and the user is told.
import { freePort, portFree } from "./ports.js";

/** For each named port of `ports` another program holds now, picks a free one in its place;
 *  returns a line for the user per port moved. */
export async function moveTakenPorts<Key extends string>(ports: NoInfer<Record<Key, number>>, names: Record<Key, string>): Promise<string[]> {
  const moved: string[] = [];
  for (const key of Object.keys(names) as Key[]) {
    const port = ports[key];
    if (await portFree(port)) continue;
    ports[key] = await freePort();
    moved.push(`  127.0.0.1:${port} is held by another program now; ${names[key]} moved to 127.0.0.1:${ports[key]}.`);
  }
  return moved;
}
