/**
 * The snapshot timeline of a space, in the main area ("Open Snapshot Timeline"): the space's
 * snapshots by day, newest first, each with its time, reason, name, pin and own size; the disk
 * they take; a preview of the selected one (its layout, its panes' screens, the agent
 * conversations it holds); restore, pin, delete, a prune that shows its dry run first, and the
 * space's snapshot schedule.
 *
 * Its own plugin (requires ISpaces), so it adds to the other plugins without changing them:
 * a button on each space view's toolbar, an item in the sidebar's context menu, a palette entry.
 * Restore and delete are the existing commands (their questions included). Plain DOM, text
 * nodes only: names and screens come from the server.
 */

import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ILayoutRestorer } from '@jupyterlab/application';
import { ICommandPalette, InputDialog, MainAreaWidget, Notification, WidgetTracker, showErrorMessage } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { CommandToolbarButton, LabIcon, refreshIcon } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import type { Message } from '@lumino/messaging';
import type { ISignal } from '@lumino/signaling';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { ISpacesEvent } from './events';
import type { ISpaceChange, SpacesModel } from './model';
import { formatTimestamp } from './sessionutils';
import { isSnapshotId, snapshotLabel, visibleText } from './snapshotutils';
import type {
  IDiskUsage,
  IPolicyPruneResult,
  IRetentionRules,
  IScreenText,
  ISnapshotSettings,
  ITimelineSnapshot,
  RuleName,
  ScheduleChoice
} from './timelineutils';
import {
  RULES,
  conversations,
  dayLabel,
  diskText,
  groupByDay,
  keptBecause,
  layoutLines,
  layoutSummary,
  needsSeconds,
  parseRules,
  pruneHeadline,
  readTimelineList,
  reasonDescription,
  reasonKey,
  reasonLabel,
  ruleLabel,
  rulesText,
  scheduleChoice,
  scheduleText,
  scheduleValue,
  screenPreview,
  screenText,
  snapshotPaneLabel,
  timeOfDay,
  uniqueSize,
  uniqueSizeTitle
} from './timelineutils';
import { CommandIDs, ISpaces } from './tokens';

export const OPEN_TIMELINE = 'jupyter-spaces:open-snapshot-timeline';
const NAMESPACE = 'jupyter-spaces-timeline';
const REFRESH_COALESCE_MS = 150;

const timelineIcon = new LabIcon({
  name: 'jupyter-spaces:timeline',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161"><rect x="5" y="2" width="2" height="20"/><circle cx="6" cy="6" r="3"/><circle cx="6" cy="13" r="3"/><circle cx="6" cy="20" r="2"/><rect x="11" y="5" width="10" height="2"/><rect x="11" y="12" width="8" height="2"/><rect x="11" y="19" width="6" height="2"/></g></svg>'
});

// ---- the routes the timeline uses beyond SpacesAPI ----------------------------------------

class TimelineAPI {
  constructor(readonly settings: ServerConnection.ISettings) {}

  async list(spaceId: string): Promise<{ snapshots: ITimelineSnapshot[]; disk: IDiskUsage | null }> {
    return readTimelineList(await this._request('GET', [spaceId, 'snapshots']));
  }

  get(spaceId: string, snapshotId: string): Promise<ITimelineSnapshot> {
    return this._request('GET', [spaceId, 'snapshots', snapshotId]) as Promise<ITimelineSnapshot>;
  }

  pin(spaceId: string, snapshotId: string, pinned: boolean): Promise<ITimelineSnapshot> {
    return this._request('PATCH', [spaceId, 'snapshots', snapshotId], { pinned }) as Promise<ITimelineSnapshot>;
  }

  prune(spaceId: string, keep: IRetentionRules, dryRun: boolean): Promise<IPolicyPruneResult> {
    return this._request('POST', [spaceId, 'snapshots', 'prune'], { dry_run: dryRun, keep }) as Promise<IPolicyPruneResult>;
  }

  screen(spaceId: string, snapshotId: string, paneId: string): Promise<IScreenText> {
    return this._request('GET', [spaceId, 'snapshots', snapshotId, 'screens', paneId]) as Promise<IScreenText>;
  }

  settingsOf(spaceId: string): Promise<ISnapshotSettings> {
    return this._request('GET', [spaceId, 'snapshots', 'settings']) as Promise<ISnapshotSettings>;
  }

  setSchedule(spaceId: string, schedule: string | null): Promise<ISnapshotSettings> {
    return this._request('PATCH', [spaceId, 'snapshots', 'settings'], { schedule }) as Promise<ISnapshotSettings>;
  }

  private async _request(method: string, parts: string[], body?: unknown): Promise<unknown> {
    const url = URLExt.join(this.settings.baseUrl, 'api/spaces', ...parts.map(p => encodeURIComponent(p)));
    // "no-cache": the default cache buster ("&<time>") is refused by the snapshot routes.
    const init: RequestInit = { method, cache: 'no-cache' };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    const response = await ServerConnection.makeRequest(url, init, this.settings);
    if (!response.ok) {
      throw await ServerConnection.ResponseError.create(response);
    }
    return response.status === 204 ? null : response.json();
  }
}

const messageOf = (error: unknown): string => (error as Error)?.message || String(error);

// ---- the panel ----------------------------------------------------------------------------

interface IPruneState {
  open: boolean;
  typed: Record<RuleName, string>;
  result: IPolicyPruneResult | null;
  busy: boolean;
  error: string | null;
}

export interface ITimelineOptions {
  spaceId: string;
  spaces: SpacesModel;
  commands: CommandRegistry;
  trans: TranslationBundle;
}

export class TimelinePanel extends Widget {
  constructor(options: ITimelineOptions) {
    super();
    this.spaceId = options.spaceId;
    this._spaces = options.spaces;
    this._commands = options.commands;
    this._trans = options.trans;
    this._api = new TimelineAPI(options.spaces.api.serverSettings);
    this.id = `jp-Spaces-timeline-${this.spaceId}`;
    this.addClass('jp-Spaces-timeline');
    this.node.dataset.spaceId = this.spaceId;
    this.node.tabIndex = -1;

    this._header = this._div('jp-Spaces-timelineHeader');
    this._settingsNode = this._div('jp-Spaces-timelineSchedule');
    this._pruneNode = this._div('jp-Spaces-timelinePrune');
    this._listNode = this._div('jp-Spaces-timelineList');
    this._listNode.setAttribute('role', 'listbox');
    this._previewNode = this._div('jp-Spaces-timelinePreview');
    const body = this._div('jp-Spaces-timelineBody');
    body.append(this._listNode, this._previewNode);
    this.node.append(this._header, this._settingsNode, this._pruneNode, body);

    this._spaces.announced.connect(this._onAnnounced, this);
    this._spaces.spaceChanged.connect(this._onSpaceChanged, this);
    this._renderAll();
    void this.refresh();
    void this._loadSettings();
  }

  readonly spaceId: string;

  get deleted(): ISignal<this, void> {
    return this._deleted;
  }

  get snapshots(): readonly ITimelineSnapshot[] {
    return this._snapshots;
  }

  /** Read the list again (the last answer asked for wins). */
  async refresh(): Promise<void> {
    window.clearTimeout(this._timer);
    this._timer = 0;
    const seq = ++this._seq;
    try {
      const list = await this._api.list(this.spaceId);
      if (this.isDisposed || seq !== this._seq) {
        return;
      }
      this._snapshots = list.snapshots;
      this._disk = list.disk;
      this._loaded = true;
      this._error = null;
      if (this._selected !== null && !this._snapshots.some(s => s.id === this._selected)) {
        this._selected = null;
      }
      if (this._selected === null && this._snapshots.length > 0) {
        this._selected = groupByDay(this._snapshots)[0].snapshots[0].id;
      }
    } catch (error) {
      if (this.isDisposed || seq !== this._seq) {
        return;
      }
      this._error = messageOf(error);
    }
    this._renderHeader();
    this._renderList();
    void this._loadPreview();
  }

  /** Select a snapshot and show its preview. */
  select(snapshotId: string): void {
    if (this._selected === snapshotId) {
      return;
    }
    this._selected = snapshotId;
    this._renderList();
    void this._loadPreview();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearTimeout(this._timer);
    this._spaces.announced.disconnect(this._onAnnounced, this);
    this._spaces.spaceChanged.disconnect(this._onSpaceChanged, this);
    super.dispose();
  }

  protected onActivateRequest(msg: Message): void {
    (this._listNode.querySelector<HTMLElement>('.jp-Spaces-timelineItem[aria-selected="true"]') ?? this.node).focus();
  }

  protected onAfterShow(msg: Message): void {
    this._renderList();
  }

  private _onAnnounced(_: SpacesModel, event: ISpacesEvent): void {
    if (event.spaceId !== this.spaceId || event.action !== 'space_updated') {
      return;
    }
    if (this._timer === 0) {
      this._timer = window.setTimeout(() => {
        this._timer = 0;
        void this.refresh();
      }, REFRESH_COALESCE_MS);
    }
  }

  private _onSpaceChanged(_: SpacesModel, change: ISpaceChange): void {
    if (change.id !== this.spaceId) {
      return;
    }
    if (change.space === null) {
      this._deleted.emit();
      return;
    }
    this._renderHeader();
  }

  // ---- actions ----

  private async _run(command: string, snapshotId: string): Promise<void> {
    try {
      await this._commands.execute(command, { spaceId: this.spaceId, snapshotId });
    } finally {
      await this.refresh();
    }
  }

  private async _togglePin(snapshot: ITimelineSnapshot): Promise<void> {
    const trans = this._trans;
    try {
      const updated = await this._api.pin(this.spaceId, snapshot.id, !snapshot.pinned);
      this._snapshots = this._snapshots.map(s => (s.id === snapshot.id ? { ...s, pinned: updated.pinned === true } : s));
      // A pin changes what a prune would do.
      if (this._prune.result !== null) {
        this._prune.result = null;
        this._renderPrune();
      }
      this._renderList();
      void this._loadPreview(true);
    } catch (error) {
      void showErrorMessage(
        snapshot.pinned ? trans.__('The snapshot was not unpinned') : trans.__('The snapshot was not pinned'),
        messageOf(error)
      );
    }
    void this.refresh();
  }

  private _openPrune(): void {
    if (this._prune.open) {
      this._prune.open = false;
      this._prune.result = null;
    } else {
      this._prune = {
        open: true,
        typed: rulesText(this._settings?.effective?.keep ?? this._settings?.defaults?.keep ?? null),
        result: null,
        busy: false,
        error: null
      };
    }
    this._renderPrune();
    this._renderList();
    if (this._prune.open) {
      this._pruneNode.querySelector<HTMLElement>('input')?.focus();
    }
  }

  private async _pruneStep(dryRun: boolean): Promise<void> {
    const trans = this._trans;
    let rules: IRetentionRules;
    try {
      rules = parseRules(this._prune.typed, trans);
    } catch (error) {
      this._prune.error = messageOf(error);
      this._renderPrune();
      return;
    }
    this._prune.busy = true;
    this._prune.error = null;
    this._renderPrune();
    try {
      const result = await this._api.prune(this.spaceId, rules, dryRun);
      this._prune.result = dryRun ? result : null;
      if (!dryRun) {
        this._prune.open = false;
        Notification.success(pruneHeadline({ ...result, dry_run: false }, trans), { autoClose: 5000 });
      }
    } catch (error) {
      this._prune.error = messageOf(error);
    }
    this._prune.busy = false;
    this._renderPrune();
    this._renderList();
    if (!dryRun) {
      await this.refresh();
    }
  }

  private async _loadSettings(): Promise<void> {
    try {
      this._settings = await this._api.settingsOf(this.spaceId);
      this._settingsError = null;
      this._customSchedule = scheduleChoice(this._settings.schedule) === 'custom' ? this._settings.schedule ?? '' : this._customSchedule;
    } catch (error) {
      this._settingsError = messageOf(error);
    }
    this._renderSettings();
  }

  private async _saveSchedule(choice: ScheduleChoice): Promise<void> {
    const trans = this._trans;
    let value: string | null;
    try {
      value = scheduleValue(choice, this._customSchedule, trans);
    } catch (error) {
      this._settingsError = messageOf(error);
      this._renderSettings();
      return;
    }
    try {
      this._settings = await this._api.setSchedule(this.spaceId, value);
      this._settingsError = null;
      Notification.success(
        trans.__('Snapshots of %1: %2.', this._spaceName(), scheduleText(this._settings.effective?.schedule ?? value, trans)),
        { autoClose: 3000 }
      );
    } catch (error) {
      this._settingsError = messageOf(error);
    }
    this._renderSettings();
  }

  private async _loadPreview(force = false): Promise<void> {
    const id = this._selected;
    if (id === null) {
      this._detail = null;
      this._renderPreview();
      return;
    }
    if (!force && this._detail?.id === id) {
      this._renderPreview();
      return;
    }
    const listed = this._snapshots.find(s => s.id === id);
    if (listed === undefined || (listed.status !== undefined && listed.status !== 'ok') || !isSnapshotId(id)) {
      this._detail = null;
      this._detailError = null;
      this._renderPreview();
      return;
    }
    const seq = ++this._detailSeq;
    try {
      const detail = await this._api.get(this.spaceId, id);
      if (this.isDisposed || seq !== this._detailSeq) {
        return;
      }
      this._detail = detail;
      this._detailError = null;
    } catch (error) {
      if (this.isDisposed || seq !== this._detailSeq) {
        return;
      }
      this._detail = null;
      this._detailError = messageOf(error);
    }
    this._renderPreview();
  }

  // ---- rendering ----

  private _spaceName(): string {
    return visibleText(this._spaces.space(this.spaceId)?.name ?? this.spaceId);
  }

  private _renderAll(): void {
    this._renderHeader();
    this._renderSettings();
    this._renderPrune();
    this._renderList();
    this._renderPreview();
  }

  private _renderHeader(): void {
    const trans = this._trans;
    const space = this._spaces.space(this.spaceId);
    const name = this._spaceName();
    this.title.label = trans.__('Timeline: %1', name);
    this.title.caption = trans.__('Snapshot timeline of the space %1 in %2', name, space ? space.path || '/' : '?');

    const heading = document.createElement('h2');
    heading.className = 'jp-Spaces-timelineTitle';
    heading.textContent = trans.__('Snapshot timeline of %1', name);
    const disk = document.createElement('span');
    disk.className = 'jp-Spaces-timelineDisk';
    disk.textContent = this._loaded ? diskText(this._disk, this._snapshots.length, trans) : '';
    disk.title = trans.__('Screens and transcripts are stored once for all the snapshots that share them.');

    const toolbar = this._div('jp-Spaces-timelineToolbar');
    const take = this._button('take-snapshot', trans.__('Take Snapshot'), 'accept', () =>
      void this._commands.execute(CommandIDs.takeSnapshot, { spaceId: this.spaceId }).then(() => this.refresh())
    );
    const prune = this._button('prune', trans.__('Prune…'), 'default', () => this._openPrune());
    prune.title = trans.__('See what the retention rules would delete, then delete it');
    prune.setAttribute('aria-expanded', String(this._prune.open));
    const refresh = document.createElement('button');
    refresh.className = 'jp-Spaces-iconButton';
    refresh.dataset.action = 'refresh';
    refresh.title = trans.__('Read the list again');
    refresh.setAttribute('aria-label', refresh.title);
    refreshIcon.element({ container: refresh, tag: null });
    refresh.addEventListener('click', () => {
      void this.refresh();
      void this._loadSettings();
    });
    toolbar.append(take, prune, refresh);

    const top = this._div('jp-Spaces-timelineHeading');
    top.append(heading, disk);
    this._header.replaceChildren(top, toolbar);
    if (this._error !== null) {
      this._header.appendChild(this._banner(trans.__('Could not list the snapshots: %1', this._error), 'error'));
    }
  }

  private _renderSettings(): void {
    const trans = this._trans;
    const s = this._settings;
    const label = document.createElement('label');
    label.className = 'jp-Spaces-timelineScheduleLabel';
    label.textContent = trans.__('Take snapshots');
    const select = document.createElement('select');
    select.className = 'jp-mod-styled jp-Spaces-timelineScheduleSelect';
    select.dataset.field = 'schedule';
    const serverDefault = s?.defaults?.schedule;
    const options: Array<[ScheduleChoice, string]> = [
      ['default', serverDefault ? trans.__("server's setting (%1)", scheduleText(serverDefault, trans)) : trans.__("server's setting")],
      ['off', trans.__('off')],
      ['hourly', trans.__('hourly')],
      ['daily', trans.__('daily')],
      ['custom', trans.__('custom…')]
    ];
    const current = this._choice ?? scheduleChoice(s?.schedule ?? null);
    for (const [value, text] of options) {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      o.selected = value === current;
      select.appendChild(o);
    }
    select.disabled = s === null;
    const custom = document.createElement('input');
    custom.className = 'jp-mod-styled jp-Spaces-timelineScheduleCustom';
    custom.dataset.field = 'schedule-custom';
    custom.placeholder = '30m';
    custom.value = this._customSchedule;
    custom.size = 6;
    custom.title = trans.__('A whole number with a unit s, m, h or d (90s, 30m, 2h, 1d)');
    custom.setAttribute('aria-label', trans.__('Custom schedule'));
    custom.hidden = current !== 'custom';
    const save = this._button('save-schedule', trans.__('Set'), 'default', () => void this._saveSchedule('custom'));
    save.hidden = current !== 'custom';
    custom.addEventListener('input', () => {
      this._customSchedule = custom.value;
    });
    custom.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        event.preventDefault();
        void this._saveSchedule('custom');
      }
    });
    select.addEventListener('change', () => {
      const choice = select.value as ScheduleChoice;
      this._choice = choice;
      if (choice === 'custom') {
        this._renderSettings();
        this._settingsNode.querySelector<HTMLInputElement>('input')?.focus();
      } else {
        void this._saveSchedule(choice);
      }
    });
    label.appendChild(select);
    const effective = document.createElement('span');
    effective.className = 'jp-Spaces-timelineScheduleNow';
    if (s?.effective?.schedule) {
      effective.textContent = trans.__('now: %1, while the space is in use', scheduleText(s.effective.schedule, trans));
    }
    this._settingsNode.replaceChildren(label, custom, save, effective);
    const problem = this._settingsError ?? s?.message ?? null;
    if (problem) {
      this._settingsNode.appendChild(this._banner(problem, 'error'));
    }
  }

  private _renderPrune(): void {
    const trans = this._trans;
    const p = this._prune;
    this._pruneNode.hidden = !p.open;
    if (!p.open) {
      this._pruneNode.replaceChildren();
      return;
    }
    const intro = document.createElement('p');
    intro.textContent = trans.__('Keep the newest snapshots, and the newest of each hour, day and week as far back as below; named and pinned snapshots are always kept.');
    const form = this._div('jp-Spaces-timelinePruneRules');
    for (const rule of RULES) {
      const label = document.createElement('label');
      label.textContent = trans.__('Keep %1', ruleLabel(rule, trans));
      const input = document.createElement('input');
      input.className = 'jp-mod-styled';
      input.dataset.rule = rule;
      input.inputMode = 'numeric';
      input.size = 4;
      input.value = p.typed[rule];
      input.addEventListener('input', () => {
        p.typed[rule] = input.value;
        if (p.result !== null) {
          p.result = null;
          this._renderPruneResult();
          this._renderList();
        }
      });
      label.appendChild(input);
      form.appendChild(label);
    }
    const buttons = this._div('jp-Spaces-timelinePruneButtons');
    const dry = this._button('prune-dry-run', trans.__('Dry Run'), 'default', () => void this._pruneStep(true));
    dry.disabled = p.busy;
    const cancel = this._button('prune-cancel', trans.__('Cancel'), 'default', () => this._openPrune());
    buttons.append(dry, cancel);
    this._pruneResultNode = this._div('jp-Spaces-timelinePruneResult');
    this._pruneNode.replaceChildren(intro, form, buttons, this._pruneResultNode);
    this._renderPruneResult();
  }

  private _renderPruneResult(): void {
    const trans = this._trans;
    const node = this._pruneResultNode;
    if (node === null) {
      return;
    }
    const p = this._prune;
    node.replaceChildren();
    if (p.error !== null) {
      node.appendChild(this._banner(p.error, 'error'));
    }
    const r = p.result;
    if (r === null) {
      return;
    }
    const head = document.createElement('p');
    head.className = 'jp-Spaces-timelinePruneHeadline';
    head.textContent = pruneHeadline(r, trans);
    node.appendChild(head);
    const byId = new Map(this._snapshots.map(s => [s.id, s]));
    const describe = (id: string) => {
      const s = byId.get(id);
      return s ? `${formatTimestamp(s.created)} · ${reasonLabel(s.reason, trans)} · ${snapshotLabel(s, formatTimestamp, trans)}` : id;
    };
    if (r.deleted.length > 0) {
      const ul = document.createElement('ul');
      ul.className = 'jp-Spaces-timelinePruneDeleted';
      for (const id of r.deleted) {
        const li = document.createElement('li');
        li.dataset.snapshotId = id;
        li.textContent = describe(id);
        ul.appendChild(li);
      }
      node.appendChild(ul);
      const go = this._button(
        'prune-confirm',
        trans._n('Delete %1 Snapshot', 'Delete %1 Snapshots', r.deleted.length),
        'warn',
        () => void this._pruneStep(false)
      );
      go.disabled = p.busy;
      node.appendChild(go);
    }
    if (r.kept.length > 0) {
      const details = document.createElement('details');
      details.className = 'jp-Spaces-timelinePruneKept';
      const summary = document.createElement('summary');
      summary.textContent = trans._n('%1 snapshot stays', '%1 snapshots stay', r.kept.length);
      details.appendChild(summary);
      const ul = document.createElement('ul');
      for (const id of r.kept) {
        const li = document.createElement('li');
        li.dataset.snapshotId = id;
        li.textContent = `${describe(id)}: ${keptBecause(r.reasons?.[id], trans)}`;
        ul.appendChild(li);
      }
      details.appendChild(ul);
      node.appendChild(details);
    }
  }

  private _renderList(): void {
    const trans = this._trans;
    const focused = this._listNode.contains(document.activeElement)
      ? (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('[data-snapshot-id]')?.dataset.snapshotId ?? null
      : null;
    const scroll = this._listNode.scrollTop;
    const nodes: HTMLElement[] = [];
    if (this._snapshots.length === 0) {
      const empty = document.createElement('p');
      empty.className = 'jp-Spaces-timelineEmpty';
      empty.textContent = this._loaded
        ? trans.__('No snapshots yet. Take one, or let the schedule take them while you work.')
        : this._error === null
          ? trans.__('Loading…')
          : '';
      nodes.push(empty);
    }
    const doomed = new Set(this._prune.open ? this._prune.result?.deleted ?? [] : []);
    const now = Date.now();
    for (const group of groupByDay(this._snapshots)) {
      const section = document.createElement('section');
      section.className = 'jp-Spaces-timelineDay';
      section.dataset.day = group.key;
      const h = document.createElement('h3');
      h.className = 'jp-Spaces-timelineDayLabel';
      h.textContent = group.key ? dayLabel(group.key, now, trans) : trans.__('Unknown date');
      section.appendChild(h);
      const seconds = needsSeconds(group.snapshots);
      for (const s of group.snapshots) {
        section.appendChild(this._item(s, doomed.has(s.id), seconds));
      }
      nodes.push(section);
    }
    this._listNode.replaceChildren(...nodes);
    this._listNode.scrollTop = scroll;
    if (focused !== null) {
      this._listNode.querySelector<HTMLElement>(`.jp-Spaces-timelineItem[data-snapshot-id="${focused}"]`)?.focus();
    }
  }

  private _item(s: ITimelineSnapshot, doomed: boolean, seconds: boolean): HTMLElement {
    const trans = this._trans;
    const item = this._div('jp-Spaces-timelineItem');
    item.dataset.snapshotId = s.id;
    item.dataset.reason = reasonKey(s.reason);
    item.dataset.pinned = String(s.pinned === true);
    if (doomed) {
      item.dataset.prune = 'delete';
    }
    const selected = s.id === this._selected;
    item.setAttribute('role', 'option');
    item.setAttribute('aria-selected', String(selected));
    item.tabIndex = selected ? 0 : -1;
    item.addEventListener('click', () => this.select(s.id));
    item.addEventListener('keydown', event => this._onItemKey(event, s.id));

    const dot = this._div('jp-Spaces-timelineDot');
    const time = document.createElement('time');
    time.className = 'jp-Spaces-timelineTime';
    time.dateTime = s.created;
    time.textContent = timeOfDay(s.created, seconds) || '?';
    time.title = formatTimestamp(s.created) || s.created;
    const reason = document.createElement('span');
    reason.className = 'jp-Spaces-timelineReason';
    reason.textContent = reasonLabel(s.reason, trans);
    reason.title = reasonDescription(s.reason, trans);
    const name = document.createElement('span');
    name.className = 'jp-Spaces-timelineName';
    const label = typeof s.name === 'string' ? visibleText(s.name.trim()) : '';
    name.textContent = label;
    name.title = trans.__('id %1', s.id);
    const pin = document.createElement('span');
    pin.className = 'jp-Spaces-timelinePin';
    pin.textContent = s.pinned ? trans.__('pinned') : '';
    pin.title = s.pinned ? trans.__('Pinned: never pruned') : '';
    pin.setAttribute('aria-label', s.pinned ? trans.__('pinned') : '');
    const size = document.createElement('span');
    size.className = 'jp-Spaces-timelineSize';
    size.textContent = uniqueSize(s);
    size.title = uniqueSizeTitle(s, trans);
    item.append(dot, time, reason, name, pin, size);
    if (s.status !== undefined && s.status !== 'ok') {
      const warn = document.createElement('span');
      warn.className = 'jp-Spaces-timelineBroken';
      warn.textContent = s.status === 'newer' ? trans.__('newer version') : trans.__('unreadable');
      warn.title = s.message ?? '';
      item.appendChild(warn);
    }
    if (doomed) {
      item.title = trans.__('The prune would delete it');
    }
    return item;
  }

  private _onItemKey(event: KeyboardEvent, id: string): void {
    const ids = groupByDay(this._snapshots).flatMap(g => g.snapshots.map(s => s.id));
    const i = ids.indexOf(id);
    let next: string | undefined;
    if (event.key === 'ArrowDown') {
      next = ids[i + 1];
    } else if (event.key === 'ArrowUp') {
      next = ids[i - 1];
    } else if (event.key === 'Home') {
      next = ids[0];
    } else if (event.key === 'End') {
      next = ids[ids.length - 1];
    } else {
      return;
    }
    event.preventDefault();
    if (next !== undefined) {
      this.select(next);
      this._listNode.querySelector<HTMLElement>(`.jp-Spaces-timelineItem[data-snapshot-id="${next}"]`)?.focus();
    }
  }

  private _renderPreview(): void {
    const trans = this._trans;
    const node = this._previewNode;
    const s = this._snapshots.find(x => x.id === this._selected);
    if (s === undefined) {
      const p = document.createElement('p');
      p.className = 'jp-Spaces-timelineEmpty';
      p.textContent = this._snapshots.length ? trans.__('Select a snapshot to see what it holds.') : '';
      node.replaceChildren(p);
      node.dataset.snapshotId = '';
      return;
    }
    node.dataset.snapshotId = s.id;
    const parts: HTMLElement[] = [];
    const title = document.createElement('h3');
    title.className = 'jp-Spaces-timelinePreviewTitle';
    title.textContent = snapshotLabel(s, formatTimestamp, trans);
    parts.push(title);
    const meta = document.createElement('p');
    meta.className = 'jp-Spaces-timelinePreviewMeta';
    meta.textContent = [
      formatTimestamp(s.created),
      reasonLabel(s.reason, trans),
      s.pinned ? trans.__('pinned') : '',
      uniqueSizeTitle(s, trans)
    ]
      .filter(Boolean)
      .join(' · ');
    parts.push(meta);
    const why = reasonDescription(s.reason, trans);
    if (why) {
      const p = document.createElement('p');
      p.className = 'jp-Spaces-timelinePreviewWhy';
      p.textContent = why;
      parts.push(p);
    }

    const actions = this._div('jp-Spaces-timelineActions');
    const restore = this._button('restore', trans.__('Restore'), 'accept', () => void this._run(CommandIDs.restoreSnapshot, s.id));
    restore.title = trans.__('Put the space back as it was in this snapshot (a snapshot of it as it is now is taken first)');
    const pin = this._button('pin', s.pinned ? trans.__('Unpin') : trans.__('Pin'), 'default', () => void this._togglePin(s));
    pin.setAttribute('aria-pressed', String(s.pinned === true));
    pin.title = s.pinned ? trans.__('Let the retention rules prune it again') : trans.__('Keep it: never pruned');
    const remove = this._button('delete', trans.__('Delete'), 'warn', () => void this._run(CommandIDs.deleteSnapshot, s.id));
    const broken = s.status !== undefined && s.status !== 'ok';
    restore.disabled = broken;
    pin.disabled = broken;
    actions.append(restore, pin, remove);
    parts.push(actions);

    if (broken) {
      parts.push(this._banner(s.message || trans.__('This snapshot cannot be read: it can only be deleted.'), 'error'));
    } else if (this._detailError !== null) {
      parts.push(this._banner(trans.__('Could not read the snapshot: %1', this._detailError), 'error'));
    }
    const d = this._detail?.id === s.id ? this._detail : null;
    const panes = (d ?? s).panes ?? [];

    parts.push(this._heading(trans.__('Layout')));
    const summary = document.createElement('p');
    summary.className = 'jp-Spaces-timelineLayoutSummary';
    summary.textContent = layoutSummary(panes, trans);
    parts.push(summary);
    if (d !== null) {
      const pre = document.createElement('pre');
      pre.className = 'jp-Spaces-timelineLayout';
      pre.textContent = layoutLines(d.layout ?? null, panes, trans).join('\n');
      parts.push(pre);
    }

    parts.push(this._heading(trans.__('Panes')));
    const ul = document.createElement('ul');
    ul.className = 'jp-Spaces-timelinePanes';
    for (const p of panes) {
      const li = document.createElement('li');
      li.dataset.paneId = p.id;
      const label = `${snapshotPaneLabel(p, p.id)}: ${screenText(p, trans)}`;
      if (d === null || !(p.screen_bytes > 0)) {
        li.textContent = label;
      } else {
        li.appendChild(this._screen(s.id, p.id, label));
      }
      ul.appendChild(li);
    }
    parts.push(ul);

    const convs = conversations(d ?? s);
    parts.push(this._heading(trans.__('Agent conversations')));
    if (convs.length === 0) {
      const p = document.createElement('p');
      p.className = 'jp-Spaces-timelineNone';
      p.textContent = trans.__('None: no agent pane had a conversation.');
      parts.push(p);
    } else {
      const cl = document.createElement('ul');
      cl.className = 'jp-Spaces-timelineConversations';
      for (const c of convs) {
        const li = document.createElement('li');
        li.dataset.saved = String(c.saved);
        li.textContent = `${c.agent} ${c.sessionId}${c.pane ? ` (${c.pane})` : ''}: ${
          c.saved ? trans.__('saved, can be resumed after a restore') : trans.__('missing when the snapshot was taken')
        }`;
        cl.appendChild(li);
      }
      parts.push(cl);
    }
    node.replaceChildren(...parts);
  }

  /** A pane's saved screen, read when first opened; kept open across redraws. */
  private _screen(snapshotId: string, paneId: string, label: string): HTMLElement {
    const trans = this._trans;
    const key = `${snapshotId}/${paneId}`;
    const details = document.createElement('details');
    details.className = 'jp-Spaces-timelineScreen';
    const summary = document.createElement('summary');
    summary.textContent = label;
    const pre = document.createElement('pre');
    pre.className = 'jp-Spaces-timelineScreenText';
    details.append(summary, pre);
    const show = () => {
      const got = this._screens.get(key);
      if (got === undefined) {
        pre.textContent = trans.__('Loading…');
        return;
      }
      if (typeof got === 'string') {
        pre.textContent = trans.__('Could not read the screen: %1', got);
        pre.dataset.error = 'true';
        return;
      }
      const text = screenPreview(got.text);
      pre.textContent = got.truncated ? `${trans.__('[the end of the screen]')}\n${text}` : text || trans.__('(empty)');
      details.dataset.loaded = 'true';
    };
    details.addEventListener('toggle', () => {
      if (details.open) {
        this._openScreens.add(key);
      } else {
        this._openScreens.delete(key);
        return;
      }
      show();
      if (this._screens.has(key)) {
        return;
      }
      this._api
        .screen(this.spaceId, snapshotId, paneId)
        .then(
          got => this._screens.set(key, got),
          error => this._screens.set(key, messageOf(error))
        )
        .then(() => {
          if (!this.isDisposed && details.isConnected) {
            show();
          }
        });
    });
    if (this._openScreens.has(key)) {
      details.open = true;
      show();
    }
    return details;
  }

  private _heading(text: string): HTMLElement {
    const h = document.createElement('h4');
    h.className = 'jp-Spaces-timelineSection';
    h.textContent = text;
    return h;
  }

  private _div(className: string): HTMLDivElement {
    const d = document.createElement('div');
    d.className = className;
    return d;
  }

  private _button(action: string, label: string, kind: 'accept' | 'warn' | 'default', onClick: () => void): HTMLButtonElement {
    const b = document.createElement('button');
    b.className = `jp-mod-styled jp-Spaces-textButton${kind === 'accept' ? ' jp-mod-accept' : kind === 'warn' ? ' jp-mod-warn' : ''}`;
    b.dataset.action = action;
    b.textContent = label;
    b.addEventListener('click', event => {
      event.stopPropagation();
      onClick();
    });
    return b;
  }

  private _banner(text: string, kind: 'warning' | 'error'): HTMLElement {
    const p = document.createElement('p');
    p.className = 'jp-Spaces-banner';
    p.dataset.kind = kind;
    p.textContent = text;
    return p;
  }

  private _spaces: SpacesModel;
  private _commands: CommandRegistry;
  private _trans: TranslationBundle;
  private _api: TimelineAPI;
  private _header: HTMLDivElement;
  private _settingsNode: HTMLDivElement;
  private _pruneNode: HTMLDivElement;
  private _pruneResultNode: HTMLDivElement | null = null;
  private _listNode: HTMLDivElement;
  private _previewNode: HTMLDivElement;
  private _snapshots: ITimelineSnapshot[] = [];
  private _disk: IDiskUsage | null = null;
  private _loaded = false;
  private _error: string | null = null;
  private _seq = 0;
  private _timer = 0;
  private _selected: string | null = null;
  private _detail: ITimelineSnapshot | null = null;
  private _detailError: string | null = null;
  private _detailSeq = 0;
  private _screens = new Map<string, IScreenText | string>();
  private _openScreens = new Set<string>();
  private _settings: ISnapshotSettings | null = null;
  private _settingsError: string | null = null;
  private _choice: ScheduleChoice | null = null;
  private _customSchedule = '';
  private _prune: IPruneState = { open: false, typed: rulesText(null), result: null, busy: false, error: null };
  private _deleted = new Signal<this, void>(this);
}

// ---- the plugin ---------------------------------------------------------------------------

export const timelinePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-spaces:snapshot-timeline',
  description: "A space's snapshots on a timeline: preview, restore, pin, delete, prune, schedule.",
  autoStart: true,
  requires: [ISpaces],
  optional: [ICommandPalette, ILayoutRestorer, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    spaces: ISpaces,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyter_spaces');
    const { model, tracker } = spaces;
    const timelines = new WidgetTracker<MainAreaWidget<TimelinePanel>>({ namespace: NAMESPACE });

    /** The space a command acts on: its argument, the space under the context menu, the current view. */
    const spaceOf = (args: Record<string, unknown>): string | null => {
      if (typeof args.spaceId === 'string' && args.spaceId) {
        return args.spaceId;
      }
      const hit = app.contextMenuHitTest(n => n.dataset?.spaceId !== undefined && n.dataset.spaceId !== '');
      if (hit?.dataset.spaceId) {
        return hit.dataset.spaceId;
      }
      const current = app.shell.currentWidget;
      const timeline = timelines.find(w => w === current);
      return timeline?.content.spaceId ?? tracker.currentWidget?.content.spaceId ?? null;
    };

    const open = async (spaceId: string, activate: boolean): Promise<TimelinePanel | null> => {
      let widget = timelines.find(w => w.content.spaceId === spaceId) ?? null;
      if (widget === null) {
        const known = model.space(spaceId) ?? (await model.refreshSpace(spaceId).catch(() => null));
        if (!known) {
          return null;
        }
        widget = timelines.find(w => w.content.spaceId === spaceId) ?? null;
      }
      if (widget === null) {
        const content = new TimelinePanel({ spaceId, spaces: model, commands: app.commands, trans });
        const w = new MainAreaWidget({ content });
        widget = w;
        w.id = `jp-Spaces-timeline-tab-${spaceId}`;
        w.addClass('jp-Spaces-timelineTab');
        w.title.icon = timelineIcon;
        w.title.closable = true;
        const sync = () => {
          w.title.label = content.title.label;
          w.title.caption = content.title.caption;
        };
        content.title.changed.connect(sync);
        sync();
        content.deleted.connect(() => w.dispose());
        const view = tracker.find(v => v.content.spaceId === spaceId);
        app.shell.add(w, 'main', view ? { ref: view.id, mode: 'tab-after' } : undefined);
        await timelines.add(w);
      }
      if (activate) {
        app.shell.activateById(widget.id);
      }
      return widget.content;
    };

    app.commands.addCommand(OPEN_TIMELINE, {
      label: trans.__('Open Snapshot Timeline'),
      caption: trans.__("The space's snapshots over time: preview, restore, pin, prune, and how often they are taken"),
      icon: args => (args.toolbar ? timelineIcon : undefined),
      execute: async args => {
        let spaceId = spaceOf(args as Record<string, unknown>);
        if (spaceId === null) {
          // From the palette with no space at hand: ask which one.
          const known = model.spaces;
          if (known.length === 1) {
            spaceId = known[0].id;
          } else if (known.length > 1) {
            const names = known.map(s => `${visibleText(s.name)} (${s.path || '/'})`);
            const picked = await InputDialog.getItem({ title: trans.__('Snapshot Timeline of…'), items: names });
            if (!picked.button.accept || picked.value === null) {
              return null;
            }
            spaceId = known[names.indexOf(picked.value)]?.id ?? null;
          }
        }
        if (spaceId === null) {
          void showErrorMessage(trans.__('No space'), trans.__('Create a space first.'));
          return null;
        }
        return open(spaceId, args.activate !== false);
      }
    });
    palette?.addItem({ command: OPEN_TIMELINE, category: trans.__('Spaces') });

    // Where the snapshot commands are: each space view's toolbar, the sidebar's spaces.
    const addButton = (w: MainAreaWidget<{ spaceId: string } & Widget>) => {
      const button = new CommandToolbarButton({
        commands: app.commands,
        id: OPEN_TIMELINE,
        args: { spaceId: w.content.spaceId, toolbar: true },
        icon: timelineIcon,
        label: trans.__('Timeline')
      });
      const names = Array.from(w.toolbar.names());
      if (names.includes('snapshots')) {
        w.toolbar.insertAfter('snapshots', 'snapshot-timeline', button);
      } else {
        w.toolbar.addItem('snapshot-timeline', button);
      }
    };
    tracker.forEach(addButton);
    tracker.widgetAdded.connect((_, w) => addButton(w));
    app.contextMenu.addItem({ command: OPEN_TIMELINE, selector: '.jp-Spaces-sidebar .jp-Spaces-space', rank: 60 });
    app.contextMenu.addItem({ command: OPEN_TIMELINE, selector: '.jp-Spaces-snapshots', rank: 60 });

    if (restorer !== null) {
      void restorer.restore(timelines, {
        command: OPEN_TIMELINE,
        args: w => ({ spaceId: w.content.spaceId, activate: false }),
        name: w => w.content.spaceId
      });
    }
  }
};
