/**
 * Loading xterm.js and choosing its renderer.
 *
 * xterm.js and its addons are imported on first use, so JupyterLab's start-up does not pay
 * for them until a space is opened. The WebGL renderer is by far the fastest; where the
 * browser has no WebGL (headless CI browsers, some VMs, a blocklisted GPU), or when the
 * browser takes the context away (it keeps only a handful of WebGL contexts per page, and a
 * 16-pane space can exceed that), the pane falls back to xterm.js's built-in DOM renderer.
 */

import type { ITerminalOptions, Terminal } from '@xterm/xterm';
import type { FitAddon } from '@xterm/addon-fit';
import type { WebglAddon } from '@xterm/addon-webgl';

export type RendererKind = 'webgl' | 'dom';

interface IModules {
  Terminal: typeof Terminal;
  FitAddon: typeof FitAddon;
  WebglAddon: typeof WebglAddon | null;
}

let modules: Promise<IModules> | null = null;
let webglSupport: boolean | null = null;

/** Whether this browser can make a WebGL2 context (what xterm.js's WebGL addon needs). */
export function hasWebGL(): boolean {
  if (webglSupport === null) {
    try {
      const canvas = document.createElement('canvas');
      const gl = canvas.getContext('webgl2');
      webglSupport = gl !== null;
      // Give the probe context back at once: contexts are a scarce resource.
      gl?.getExtension('WEBGL_lose_context')?.loseContext();
    } catch {
      webglSupport = false;
    }
  }
  return webglSupport;
}

function load(): Promise<IModules> {
  if (modules === null) {
    modules = Promise.all([
      import('@xterm/xterm'),
      import('@xterm/addon-fit'),
      hasWebGL() ? import('@xterm/addon-webgl') : Promise.resolve(null)
    ]).then(([xterm, fit, webgl]) => ({
      Terminal: xterm.Terminal,
      FitAddon: fit.FitAddon,
      WebglAddon: webgl?.WebglAddon ?? null
    }));
    // A failed chunk load must be retried on the next pane, not cached forever.
    modules.catch(() => {
      modules = null;
    });
  }
  return modules;
}

export interface ICreatedTerminal {
  term: Terminal;
  fit: FitAddon;
  /**
   * Switch to the WebGL renderer if the browser has it; call after `term.open()`. Resolves
   * to the renderer in use. `onFallback` is called if WebGL is later lost and the terminal
   * drops back to the DOM renderer.
   */
  useBestRenderer(onFallback?: () => void): RendererKind;
}

export async function createTerminal(options: ITerminalOptions): Promise<ICreatedTerminal> {
  const m = await load();
  const term = new m.Terminal(options);
  const fit = new m.FitAddon();
  term.loadAddon(fit);
  const useBestRenderer = (onFallback?: () => void): RendererKind => {
    if (m.WebglAddon === null) {
      return 'dom';
    }
    try {
      const webgl = new m.WebglAddon();
      webgl.onContextLoss(() => {
        // Disposing the addon hands rendering back to the DOM renderer. We do not make a
        // new WebGL context: the browser took this one because it has too many.
        webgl.dispose();
        onFallback?.();
      });
      term.loadAddon(webgl);
      return 'webgl';
    } catch (error) {
      console.warn('jupyter-spaces: WebGL renderer unavailable, using the DOM renderer', error);
      return 'dom';
    }
  };
  return { term, fit, useBestRenderer };
}
