// Nx loads generator factories with require() and transpiles .ts only through @swc-node/register or ts-node,
// neither of which this workspace has (and the repository is ESM). tsx, which runs every other source file
// here, loads the TypeScript generator instead. register() rather than tsx's namespaced require(): the
// namespace loads a second copy of some dependencies (yaml then rejects its own node classes).
const { register } = require('tsx/cjs/api');

register();
module.exports = require('./generator.ts').consumerAppGenerator;
