/**
 * Icons JupyterLab does not have. The `jp-icon3` class lets the theme recolour them, like
 * the built-in icons, so they read well in light and dark themes.
 */

import { LabIcon } from '@jupyterlab/ui-components';

const svg = (body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">` +
  `<g class="jp-icon3" fill="#616161">${body}</g></svg>`;

// A 2x2 grid of panes: the sidebar tab and the space tabs.
export const spacesIcon = new LabIcon({
  name: 'jupyter-spaces:spaces',
  svgstr: svg(
    '<path d="M1 2h6v5H1zM9 2h6v5H9zM1 9h6v5H1zM9 9h6v5H9z" fill-opacity="0.9"/>'
  )
});

// A pane with a new half on its right.
export const splitRightIcon = new LabIcon({
  name: 'jupyter-spaces:split-right',
  svgstr: svg(
    '<path d="M1 2h14v12H1zM2.5 3.5v9h5v-9zM8.5 3.5v9h5v-9z" fill-rule="evenodd"/>'
  )
});

// A pane with a new half below it.
export const splitDownIcon = new LabIcon({
  name: 'jupyter-spaces:split-down',
  svgstr: svg(
    '<path d="M1 2h14v12H1zM2.5 3.5v4h11v-4zM2.5 8.5v4h11v-4z" fill-rule="evenodd"/>'
  )
});

export const maximizeIcon = new LabIcon({
  name: 'jupyter-spaces:maximize',
  svgstr: svg(
    '<path d="M2 2h5v1.5H3.5V7H2zM9 2h5v5h-1.5V3.5H9zM2 9h1.5v3.5H7V14H2zM12.5 9H14v5H9v-1.5h3.5z"/>'
  )
});

export const restoreIcon = new LabIcon({
  name: 'jupyter-spaces:restore',
  svgstr: svg(
    '<path d="M5.5 2H7v5H2V5.5h3.5zM9 2h1.5v3.5H14V7H9zM2 9h5v5H5.5v-3.5H2zM9 9h5v1.5h-3.5V14H9z"/>'
  )
});

// A camera: take a snapshot of a space.
export const snapshotIcon = new LabIcon({
  name: 'jupyter-spaces:snapshot',
  svgstr: svg(
    '<path d="M5.5 2.5h5l1 1.5H14a1 1 0 0 1 1 1v7.5a1 1 0 0 1-1 1H2a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1h2.5zM8 5.5a3 3 0 1 0 0 6 3 3 0 1 0 0-6zM8 7a1.5 1.5 0 1 1 0 3 1.5 1.5 0 1 1 0-3z" fill-rule="evenodd"/>'
  )
});

// The agent CLIs: a terminal prompt with the CLI's initial, so the buttons tell them apart.
const agentGlyph = (letter: string) =>
  svg(
    '<path d="M1.5 2h13a.5.5 0 0 1 .5.5v11a.5.5 0 0 1-.5.5h-13a.5.5 0 0 1-.5-.5v-11a.5.5 0 0 1 .5-.5zM2.5 3.5v9h11v-9z" fill-rule="evenodd"/>' +
      `<text x="8" y="11.2" text-anchor="middle" font-family="sans-serif" font-weight="700" font-size="8">${letter}</text>`
  );

export const claudeIcon = new LabIcon({ name: 'jupyter-spaces:claude', svgstr: agentGlyph('C') });
export const codexIcon = new LabIcon({ name: 'jupyter-spaces:codex', svgstr: agentGlyph('X') });
export const geminiIcon = new LabIcon({ name: 'jupyter-spaces:gemini', svgstr: agentGlyph('G') });

export const AGENT_ICONS: Record<string, LabIcon> = { claude: claudeIcon, codex: codexIcon, gemini: geminiIcon };
