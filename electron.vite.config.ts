// electron-vite build config: bundles the main process, the sandboxed preload and the React renderer into out/.
import { readFileSync } from 'node:fs';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * In dev, @vitejs/plugin-react injects its Fast Refresh preamble as an inline <script>, which our CSP
 * (script-src 'self', no 'unsafe-inline') rightly blocks. Swap it for the plugin's own virtual preamble
 * module loaded by src, so dev and production run under the same policy.
 */
function cspSafeReactPreamble(): Plugin {
  return {
    name: 'filehaul:csp-safe-react-preamble',
    apply: 'serve',
    transformIndexHtml: {
      order: 'post',
      handler: (html) =>
        html.replace(
          /<script type="module">\s*import \{ injectIntoGlobalHook \}[\s\S]*?<\/script>/,
          '<script type="module" src="/@id/@vitejs/plugin-react/preamble"></script>',
        ),
    },
  };
}

export default defineConfig({
  main: {
    build: {
      // better-sqlite3 is a native addon: it must be require()d from node_modules at run time, never bundled.
      externalizeDeps: { include: ['better-sqlite3'] },
    },
  },
  preload: {
    // Sandboxed preloads cannot be ES modules and cannot require() local files, so emit one self-contained CJS file.
    build: {
      rolldownOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
    define: { __FILEHAUL_VERSION__: JSON.stringify(pkg.version) },
  },
  renderer: {
    root: 'src/renderer',
    plugins: [react(), cspSafeReactPreamble()],
  },
});
