import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC, not esbuild: Nest's dependency injection needs the decorator metadata that esbuild drops.
const plugins = [swc.vite({ jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { decoratorMetadata: true, legacyDecorator: true }, target: 'es2023' } })];
// Workspace packages resolve to their TypeScript sources (the "source" export condition), so unit and
// integration tests need no build. e2e tests start the built services.
const resolve = { conditions: ['source'] };
// Node-environment tests resolve through Vite's SSR environment, which ignores the top-level resolve.conditions:
// 'source' is added there to Vite's default server conditions.
const environments = { ssr: { resolve: { conditions: ['source', 'module', 'node', 'development|production'] } } };

export default defineConfig({
  test: {
    projects: [
      {
        plugins,
        resolve,
        environments,
        test: {
          name: 'unit',
          include: ['apps/*/src/**/*.spec.ts', 'packages/*/src/**/*.spec.ts', 'scripts/**/*.spec.ts'],
          environment: 'node',
        },
      },
      {
        plugins,
        resolve,
        environments,
        test: {
          name: 'int',
          include: ['apps/*/src/**/*.int-spec.ts', 'packages/*/src/**/*.int-spec.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        plugins,
        resolve,
        environments,
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e-spec.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
