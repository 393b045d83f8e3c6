/**
 * Terminal colours that follow JupyterLab's theme.
 *
 * Foreground, background, cursor and selection come from the theme's CSS variables, as in
 * JupyterLab's own terminal. The 16 ANSI colours are chosen for the background's lightness:
 * xterm.js's defaults are made for a dark background, and its yellow and white are
 * unreadable on JupyterLab's light theme.
 */

import type { ITheme } from '@xterm/xterm';

export type ThemeChoice = 'inherit' | 'light' | 'dark';

const LIGHT_ANSI: ITheme = {
  black: '#000000',
  red: '#c4314b',
  green: '#107c10',
  yellow: '#946300',
  blue: '#0451a5',
  magenta: '#a626a4',
  cyan: '#0f7c8c',
  white: '#6e6e6e',
  brightBlack: '#5f5f5f',
  brightRed: '#cd3131',
  brightGreen: '#14830f',
  brightYellow: '#a56a00',
  brightBlue: '#0070c1',
  brightMagenta: '#bc05bc',
  brightCyan: '#0598bc',
  brightWhite: '#8c8c8c'
};

const DARK_ANSI: ITheme = {
  black: '#000000',
  red: '#e06c75',
  green: '#98c379',
  yellow: '#e5c07b',
  blue: '#61afef',
  magenta: '#c678dd',
  cyan: '#56b6c2',
  white: '#d0d0d0',
  brightBlack: '#7f848e',
  brightRed: '#f07178',
  brightGreen: '#b5e890',
  brightYellow: '#ffd580',
  brightBlue: '#82c4ff',
  brightMagenta: '#de9bff',
  brightCyan: '#7fdcea',
  brightWhite: '#ffffff'
};

const FIXED: Record<'light' | 'dark', ITheme> = {
  light: {
    foreground: '#1f1f1f',
    background: '#ffffff',
    cursor: '#616161',
    cursorAccent: '#f5f5f5',
    selectionBackground: 'rgba(97, 97, 97, 0.3)',
    selectionInactiveBackground: 'rgba(189, 189, 189, 0.3)',
    ...LIGHT_ANSI
  },
  dark: {
    foreground: '#e0e0e0',
    background: '#111111',
    cursor: '#ffffff',
    cursorAccent: '#000000',
    selectionBackground: 'rgba(255, 255, 255, 0.3)',
    selectionInactiveBackground: 'rgba(238, 238, 238, 0.2)',
    ...DARK_ANSI
  }
};

/**
 * Whether a CSS colour (#rgb, #rrggbb, #rrggbbaa, rgb(), rgba()) is dark, by its relative
 * luminance. Unknown syntax counts as light, JupyterLab's default theme.
 */
export function isDarkColor(css: string): boolean {
  const rgb = parseColor(css.trim());
  if (rgb === null) {
    return false;
  }
  const [r, g, b] = rgb.map(c => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.4;
}

function parseColor(css: string): [number, number, number] | null {
  let m = /^#([0-9a-f]{3,8})$/i.exec(css);
  if (m) {
    let hex = m[1];
    if (hex.length === 3 || hex.length === 4) {
      hex = hex
        .slice(0, 3)
        .split('')
        .map(c => c + c)
        .join('');
    }
    if (hex.length < 6) {
      return null;
    }
    return [0, 2, 4].map(i => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  }
  m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(css);
  if (m) {
    return [Number(m[1]), Number(m[2]), Number(m[3])];
  }
  return null;
}

/** The xterm.js theme for `choice`, reading JupyterLab's current CSS variables. */
export function terminalTheme(choice: ThemeChoice): ITheme {
  if (choice !== 'inherit') {
    return FIXED[choice];
  }
  const style = getComputedStyle(document.body);
  const v = (name: string) => style.getPropertyValue(name).trim();
  const background = v('--jp-layout-color0') || '#ffffff';
  const dark = isDarkColor(background);
  return {
    ...(dark ? DARK_ANSI : LIGHT_ANSI),
    foreground: v('--jp-ui-font-color0') || FIXED[dark ? 'dark' : 'light'].foreground,
    background,
    cursor: v('--jp-ui-font-color1') || FIXED[dark ? 'dark' : 'light'].cursor,
    cursorAccent: v('--jp-ui-inverse-font-color0') || FIXED[dark ? 'dark' : 'light'].cursorAccent,
    selectionBackground: v('--jp-layout-color3') || FIXED[dark ? 'dark' : 'light'].selectionBackground,
    selectionInactiveBackground:
      v('--jp-layout-color2') || FIXED[dark ? 'dark' : 'light'].selectionInactiveBackground
  };
}
