// Notices items pushed onto a list another module owns (the Twilio stand-in's sent messages), at
// the moment they arrive, without changing that module.
export function observePushes<T>(list: T[], listener: (item: T) => void): () => void {
  const original = list.push;
  list.push = (...items: T[]): number => {
    for (const item of items) listener(item);
    return original.apply(list, items);
  };
  return () => {
    list.push = original;
  };
}
