import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isDarkColor } from '../src/theme';

describe('isDarkColor', () => {
  it('tells JupyterLab\'s light and dark backgrounds apart', () => {
    assert.equal(isDarkColor('#ffffff'), false); // Light theme --jp-layout-color0
    assert.equal(isDarkColor('#111111'), true); // Dark theme --jp-layout-color0
    assert.equal(isDarkColor(' #fff '), false);
    assert.equal(isDarkColor('rgb(17, 17, 17)'), true);
    assert.equal(isDarkColor('rgba(250, 250, 250, 1)'), false);
  });

  it('treats unknown syntax as light (the default theme)', () => {
    assert.equal(isDarkColor('var(--x)'), false);
    assert.equal(isDarkColor(''), false);
  });
});
