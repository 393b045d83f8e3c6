/**
 * Commands that start panes: a shell, a command, an agent, a resumed agent session.
 */

import { Dialog, InputDialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';

import { CommandLineError, splitCommandLine } from './argv';
import type { AgentName, INewPane, IPane, IResumeOptions, ISession, ResumeResult } from './api';
import { agentLabel, sessionFolder } from './sessionutils';
import { CommandIDs } from './tokens';
import type { ICommandContext, ICommandHelpers } from './commandcontext';
import { folderArg, str } from './commandcontext';
import { AGENT_ICONS } from './icons';
import { agentAvailability } from './paneident';

export function addNewPaneCommands(ctx: ICommandContext, h: ICommandHelpers): void {
  const { model, trans } = ctx;
  const { commands } = ctx.app;
  const { target, locked, fail, pickSpace, showPane, startPane, placement, ensureSpace } = h;

  commands.addCommand(CommandIDs.newShell, {
    label: trans.__('New Shell Pane'),
    caption: trans.__('Start a shell in a new pane of the space'),
    isEnabled: args => !locked(args),
    execute: async args => {
      const spaceId = target(args).spaceId ?? (await pickSpace());
      if (spaceId !== null) {
        await startPane(spaceId, { kind: 'shell', cwd: str(args.cwd) ?? undefined, ...placement(spaceId, args) });
      }
    }
  });

  commands.addCommand(CommandIDs.newCommand, {
    label: trans.__('New Command Pane…'),
    caption: trans.__('Run a long-running command (a dev server, a watcher) in a new pane'),
    isEnabled: args => !locked(args),
    execute: async args => {
      const spaceId = target(args).spaceId ?? (await pickSpace());
      if (spaceId === null) {
        return;
      }
      let argv: string[] | null = Array.isArray(args.argv) ? (args.argv as string[]) : null;
      if (argv === null) {
        const result = await InputDialog.getText({
          title: trans.__('New Command Pane'),
          label: trans.__('Command (run as is, without a shell; quote words as in sh):'),
          placeholder: 'python -m http.server 8000'
        });
        if (!result.button.accept || !result.value?.trim()) {
          return;
        }
        try {
          argv = splitCommandLine(result.value);
        } catch (error) {
          if (error instanceof CommandLineError) {
            void showErrorMessage(trans.__('Not a command line'), error.message);
            return;
          }
          throw error;
        }
      }
      if (argv.length === 0) {
        return;
      }
      await startPane(spaceId, {
        kind: 'command',
        argv,
        title: str(args.title) ?? argv[0].split('/').pop(),
        cwd: str(args.cwd) ?? undefined,
        ...placement(spaceId, args)
      });
    }
  });

  const agents: Array<[string, AgentName]> = [
    [CommandIDs.newClaude, 'claude'],
    [CommandIDs.newCodex, 'codex'],
    [CommandIDs.newGemini, 'gemini']
  ];
  for (const [id, agent] of agents) {
    const availability = () => agentAvailability(model.agents, agent);
    commands.addCommand(id, {
      // The launcher and the toolbar name the CLI; the palette says what happens.
      label: args => (args.isLauncher || args.short ? agentLabel(agent) : trans.__('New %1 Pane', agentLabel(agent))),
      caption: args =>
        availability().reason ??
        (args.isLauncher
          ? trans.__('Start %1 in the space of this folder (made if it has none)', agentLabel(agent))
          : trans.__('Start %1 in a new pane of the space (it resumes by itself after a restart)', agentLabel(agent))),
      icon: AGENT_ICONS[agent],
      isEnabled: args => availability().installed && !locked(args),
      execute: async args => {
        if (!availability().installed) {
          void showErrorMessage(trans.__('%1 is not installed', agentLabel(agent)), availability().reason ?? '');
          return null;
        }
        let spaceId = str(args.spaceId);
        const launcherFolder = folderArg(args.cwd);
        if (spaceId === null && args.isLauncher && launcherFolder !== null) {
          // The launcher's folder: its space, made if it has none.
          spaceId = (await ensureSpace(launcherFolder))?.id ?? null;
          if (spaceId === null) {
            return null;
          }
        }
        spaceId = spaceId ?? target(args).spaceId ?? (await pickSpace());
        if (spaceId === null) {
          return null;
        }
        const body: INewPane = { kind: 'agent', agent };
        if (Array.isArray(args.args)) {
          body.args = (args.args as unknown[]).filter((a): a is string => typeof a === 'string');
        }
        body.model = str(args.model) ?? undefined;
        body.cwd = args.isLauncher ? undefined : (str(args.cwd) ?? undefined);
        body.title = str(args.title) ?? undefined;
        Object.assign(body, placement(spaceId, args));
        return startPane(spaceId, body);
      }
    });
  }

  /** A running pane that already holds this conversation. */
  const paneWithSession = (agent: string, id: string): IPane | undefined => {
    for (const space of model.spaces) {
      const pane = space.panes.find(p => p.agent === agent && p.session_id === id && p.state === 'running');
      if (pane !== undefined) {
        return pane;
      }
    }
    return undefined;
  };

  /**
   * Resume a session in a pane of its space. The server refuses what the user can fix with a
   * yes: no space holds the folder (create one, then try again), the transcript was deleted
   * (start a fresh conversation there). Anything else is shown as the server says it.
   */
  const resume = async (agent: string, id: string, options: IResumeOptions): Promise<IPane | null> => {
    const title = trans.__('The session could not be resumed');
    let session: ISession | null | undefined;
    const about = async (): Promise<ISession | null> => {
      if (session === undefined) {
        session = await model.api.getSession(agent, id).catch(() => null);
      }
      return session;
    };
    let createdFor: string | null = null;
    let last: ResumeResult | null = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        last = await model.api.resumeSession(agent, id, options);
      } catch (error) {
        fail(title)(error);
        return null;
      }
      if (last.ok) {
        await showPane(last.pane);
        return last.pane;
      }
      if (last.reason === 'no_space' && createdFor === null) {
        const path = last.path ?? (await about())?.path ?? null;
        if (path === null) {
          break;
        }
        const shown = path || '/';
        const answer = await showDialog({
          title: trans.__('Create a space for %1?', shown),
          body: trans.__(
            'The session ran in %1, which has no space yet. A space is created for that folder and the session resumes in a pane of it.',
            shown
          ),
          buttons: [Dialog.cancelButton(), Dialog.okButton({ label: trans.__('Create Space') })]
        });
        if (!answer.button.accept) {
          return null;
        }
        if (model.spaceForPath(path) === undefined) {
          try {
            model.update(await model.api.createSpace(path));
          } catch (error) {
            // Another window may have made it meanwhile: the next try tells.
            if ((error as { response?: Response }).response?.status !== 409) {
              fail(trans.__('The space could not be created'))(error);
              return null;
            }
          }
        }
        createdFor = path;
        continue;
      }
      if (last.reason === 'already_open' && last.space_id !== null) {
        // Another window resumed it a moment ago: show that pane rather than a second copy.
        await ctx.openSpace(last.space_id, { paneId: last.pane_id ?? undefined });
        return last.pane_id !== null ? (model.pane(last.space_id, last.pane_id) ?? null) : null;
      }
      if (last.reason === 'gone' && options.fresh !== true) {
        const s = await about();
        const folder = (s !== null ? sessionFolder(s) : '') || last.path || trans.__('its folder');
        const answer = await showDialog({
          title: trans.__('Start a fresh session?'),
          body: trans.__('The transcript was deleted. Start a fresh session in %1?', folder),
          buttons: [Dialog.cancelButton(), Dialog.okButton({ label: trans.__('Start Fresh') })]
        });
        if (!answer.button.accept) {
          return null;
        }
        options = { ...options, fresh: true };
        continue;
      }
      break;
    }
    if (last !== null && !last.ok) {
      void showErrorMessage(title, last.message);
    }
    return null;
  };

  commands.addCommand(CommandIDs.resumeSession, {
    label: trans.__('Resume Agent Session'),
    caption: trans.__('Resume an agent session in a new pane of its space'),
    isEnabled: args => str(args.agent) !== null && str(args.id) !== null,
    execute: async args => {
      const agent = str(args.agent);
      const id = str(args.id);
      if (agent === null || id === null) {
        return null;
      }
      const fresh = args.fresh === true;
      // Two programs writing one conversation would garble it: show the pane that has it.
      const open = fresh ? undefined : paneWithSession(agent, id);
      if (open !== undefined) {
        await ctx.openSpace(open.space_id, { paneId: open.id });
        return open;
      }
      const options: IResumeOptions = fresh ? { fresh } : {};
      const spaceId = str(args.spaceId);
      if (spaceId !== null) {
        options.space_id = spaceId;
      }
      return resume(agent, id, options);
    }
  });
}
