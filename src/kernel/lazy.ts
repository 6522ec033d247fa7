/**
 * `make` run on the first call of the returned function, its result kept for
 * every later call. Plugin config schemas are built this way: building a zod
 * schema costs CPU at start, and a command builds only the schemas of the
 * plugins its config names (bench/cli measures the start).
 */
export function lazy<T>(make: () => T): () => T {
  let made = false;
  let value: T;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value;
  };
}
