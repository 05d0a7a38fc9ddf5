// The Redis bus hands what its subscriber heard to the listeners only after the command connection wrote
// what was issued on the replies read along with it. A turn publishes its first events, waits for that
// publish's reply, then sends its writes; the same read usually brings the events back to this replica's
// subscriber, and fanning them out to its sockets first held those writes back by the whole fan-out.
import assert from "node:assert/strict";
import { createClient } from "redis";
import { RedisEventBus } from "../lib/state/redis/bus.ts";
import { REDIS_SERVER, startRedisServer } from "./_redis_server.ts";

if (REDIS_SERVER) {
  Deno.test("a command issued on a publish's reply goes to Redis before the listeners hear that event", async () => {
    const server = await startRedisServer();
    const publisher = createClient({ url: server.url });
    const subscriber = publisher.duplicate();
    await Promise.all([publisher.connect(), subscriber.connect()]);
    const errors: unknown[] = [];
    const bus = await RedisEventBus.open(publisher, subscriber, "order:bus", (error) => errors.push(error));
    try {
      for (let round = 0; round < 10; round++) {
        const list = `order:${round}`;
        const heard = Promise.withResolvers<void>();
        const unsubscribe = bus.subscribe(() => {
          publisher.sendCommand(["RPUSH", list, "listener"]).then(() => heard.resolve());
        });
        bus.publish({ event: "probe", payload: { round } });
        await bus.flush();
        // A turn's writes are issued a few promise hops after that reply, as they are here.
        for (let hop = 0; hop < 5; hop++) await Promise.resolve();
        const written = publisher.sendCommand(["RPUSH", list, "issued on the reply"]);
        await Promise.all([written, heard.promise]);
        unsubscribe();
        assert.deepEqual(await publisher.sendCommand(["LRANGE", list, "0", "-1"]), [
          "issued on the reply",
          "listener",
        ]);
      }
      assert.deepEqual(errors, []);
    } finally {
      await bus.close();
      await Promise.all([publisher.close(), subscriber.close()]);
      await server.stop();
    }
  });
}
