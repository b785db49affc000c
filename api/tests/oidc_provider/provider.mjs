// A real OpenID Provider (panva/oidc-provider, OpenID Certified) for the single-sign-on tests;
// started by tests/ssoservers.py as `node provider.mjs <config.json>`. Loopback only, in-memory
// state (sessions, codes and grants are gone after a restart). The config holds issuer, port,
// clients, jwks (private signing keys), cookie_keys, acr_values and users_file: a JSON object
// {login: {password, sub, email, email_verified, name, groups, amr?, acr?}} that is read again on
// every login and every account lookup, so a test can change a user between sign-ins.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const users = () => JSON.parse(readFileSync(config.users_file, 'utf8'));
const bySub = (sub) => Object.values(users()).find((user) => user.sub === sub);
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: config.cookie_keys },
  // acr and amr ride on the openid scope: oidc-provider puts a claim into the ID token only when
  // a granted scope (or the claims parameter) names it, and the login supplies their values.
  claims: {
    openid: ['sub', 'acr', 'amr'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
  ...(config.acr_values?.length ? { acrValues: config.acr_values } : {}),
  conformIdTokenClaims: false, // email, name and groups go into the ID token itself
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const user = bySub(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        const { email, email_verified: verified, name, groups } = bySub(sub) ?? user;
        return { sub, email, email_verified: verified, name, groups };
      },
    };
  },
  // First-party clients only: grant whatever OIDC scopes and claims are asked for, so there is
  // never a consent page.
  async loadExistingGrant(ctx) {
    const { client, session } = ctx.oidc;
    const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
    if (!grant || grant.accountId !== session.accountId) {
      grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    }
    grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
    if (ctx.oidc.requestParamClaims.size) grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
    await grant.save();
    return grant;
  },
});

for (const event of ['server_error', 'authorization.error', 'grant.error', 'userinfo.error']) {
  provider.on(event, (ctx, error) => console.error(`${event}: ${error?.stack ?? error}`));
}

function loginForm(res, uid, message = '') {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Test IdP sign-in</title></head>
<body><h1>Test IdP</h1>${message ? `<p role="alert">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
<label for="login">Login</label> <input id="login" name="login" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form></body></html>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 65536) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid || details.prompt.name !== 'login') {
    res.statusCode = 400;
    res.end(`unexpected interaction ${details.prompt.name}`);
    return;
  }
  if (req.method === 'GET') {
    loginForm(res, uid);
    return;
  }
  const form = await readForm(req);
  const user = users()[form.get('login') ?? ''];
  if (!user || user.password !== form.get('password')) {
    loginForm(res, uid, 'Invalid login');
    return;
  }
  const login = { accountId: user.sub, amr: user.amr ?? ['pwd'], acr: user.acr };
  await provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const match = /^\/interaction\/([^/?]+)(?:\?.*)?$/.exec(req.url);
  if (!match || !['GET', 'POST'].includes(req.method)) {
    callback(req, res);
    return;
  }
  interaction(req, res, match[1]).catch((error) => {
    console.error(`interaction: ${error?.stack ?? error}`);
    if (!res.headersSent) res.statusCode = 400;
    res.end(`interaction failed: ${error?.message ?? error}`);
  });
});

server.listen(config.port, '127.0.0.1', () => console.log(`READY ${config.issuer}`));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
