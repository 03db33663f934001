export async function runTrial(_dir: string): Promise<number> { throw new Error("not yet"); }
