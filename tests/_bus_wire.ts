// A Redis bus's connections, driven by hand: what it publishes is kept, what its subscriber hears and when
// its publishes and scripts are answered is up to the test.
import { RedisEventBus } from "../lib/state/redis/bus.ts";
import type { RedisClient, RedisConnection } from "../lib/state/redis/connection.ts";

/** A publisher, a subscriber and a script connection that a test drives by hand. */
export function handDriven() {
  let hear: (message: string) => void = () => {};
  const onReady: (() => void)[] = [];
  const publishes: { resolve(): void; reject(error: unknown): void }[] = [];
  const sent: string[] = [];
  const scripts: { resolve(answer: unknown): void; reject(error: unknown): void }[] = [];
  const scriptArgs: string[][] = [];
  const publisher = {
    publish: (_: string, message: string) => {
      sent.push(message);
      return new Promise<number>((resolve, reject) => publishes.push({ resolve: () => resolve(1), reject }));
    },
  };
  const subscriber = {
    isReady: true,
    isOpen: true,
    subscribe: (_: string[], listener: (message: string) => void) => {
      hear = listener;
      return Promise.resolve();
    },
    on: (name: string, listener: () => void) => name === "ready" && onReady.push(listener),
    unsubscribe: () => Promise.resolve(),
  };
  const connection = {
    key: (name: string) => `t:${name}`,
    scriptNow: () => 1_000,
    eval: (_script: unknown, _keys: unknown, args: (string | number)[]) => {
      scriptArgs.push(args.map(String));
      return new Promise((resolve, reject) => scripts.push({ resolve, reject }));
    },
  };
  return {
    publisher: publisher as unknown as RedisClient,
    subscriber: subscriber as unknown as RedisClient,
    open: (onError: (error: unknown) => void = () => {}) =>
      RedisEventBus.open(
        publisher as unknown as RedisClient,
        subscriber as unknown as RedisClient,
        "t:bus",
        onError,
        connection as unknown as RedisConnection,
      ),
    hear: (message: string) => hear(message),
    reconnected: () => onReady.forEach((listener) => listener()),
    publishes,
    sent,
    scripts,
    scriptArgs,
  };
}
