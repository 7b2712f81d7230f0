/** fastify + @fastify/reply-from (undici pool underneath).   reply-from.mjs <port> <originPort> */
import replyFrom from '@fastify/reply-from';
import Fastify from 'fastify';

const [port, originPort] = process.argv.slice(2).map(Number);
const app = Fastify({ logger: false });
await app.register(replyFrom, {
  base: `http://127.0.0.1:${originPort}`,
  undici: { connections: 128, pipelining: 1 },
});
app.all('/*', (_req, reply) => reply.from());
app.all('/', (_req, reply) => reply.from());
await app.listen({ port, host: '127.0.0.1' });
