import fp from 'fastify-plugin';

/**
 * CORS for the web console (VSC_CONSOLE_ORIGINS): the console calls the REST API from the browser,
 * from its own origin, with the bearer token in the Authorization header (no cookie, so no
 * credentials mode). Only the listed origins are answered; any other origin gets no CORS header and
 * the browser keeps the answer from its page. Preflights carry no credential and are answered here,
 * before auth, for every route (registered before the auth plugin, so its hook runs first).
 */
export const consoleCorsPlugin = fp<{ origins: readonly string[] }>(
  async (app, { origins }) => {
    if (origins.length === 0) return;
    const allowed = new Set(origins);
    app.addHook('onRequest', async (req, reply) => {
      const origin = req.headers.origin;
      if (!origin || !allowed.has(origin)) return;
      // On every answer, refusals included, so the console can show why it was refused.
      reply.header('access-control-allow-origin', origin);
      reply.header('vary', 'Origin');
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
        reply.header('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE');
        reply.header('access-control-allow-headers', 'authorization, content-type');
        reply.header('access-control-max-age', '600');
        return reply.code(204).send();
      }
    });
  },
  { name: 'console-cors', fastify: '5.x' },
);
