// The rules that keep the message path readable and transports pluggable. Checked in CI by
// `npm run lint:deps`; test/architecture/dependency-rules.test.ts shows that each one bites.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "transport-only-through-sdk",
      comment: "A transport uses the core only through src/transport/ (the SDK: contract, errors, tables, router, media, net guard).",
      severity: "error",
      from: { path: "^transports/" },
      to: { path: "^src/", pathNot: "^src/transport/" },
    },
    {
      name: "core-never-imports-a-transport",
      comment: "The core knows transports only through the contract; they are loaded by name at start.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^transports/" },
    },
    {
      name: "transports-stay-apart",
      comment: "No transport imports another.",
      severity: "error",
      from: { path: "^transports/([^/]+)/" },
      to: { path: "^transports/", pathNot: "^transports/$1/" },
    },
    {
      name: "store-below-gateway",
      comment: "The store knows nothing of stanzas or the gateway's handlers.",
      severity: "error",
      from: { path: "^src/store/" },
      to: { path: "^src/(gateway|xmpp|http)/" },
    },
    {
      name: "no-cycles",
      comment: "Import cycles make the path of a message impossible to follow file by file.",
      severity: "error",
      from: { path: "^(src|transports)/" },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules|\\.build|\\.bench)" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
