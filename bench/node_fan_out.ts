// What one broadcast costs per socket on the Node transport, beside `ws`'s own `send` and the floors under
// both (`socket.write` of one prebuilt buffer, a bare write(2) per socket): runs bench/_node_fan_out.ts
// under Node and prints its table.
//
//   deno run -A bench/node_fan_out.ts [sockets=10000] [rounds=9]
import "./_record.ts";

const script = new URL("./_node_fan_out.ts", import.meta.url).pathname;
const { code, stdout } = await new Deno.Command("node", {
  args: ["--import", "tsx", script, ...Deno.args],
  cwd: new URL("..", import.meta.url).pathname,
  stderr: "inherit",
}).output();
console.log(new TextDecoder().decode(stdout).trimEnd());
if (code !== 0) Deno.exit(code);
