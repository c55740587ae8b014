import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import kafkaJavascript from '@confluentinc/kafka-javascript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Machine {
  /** The commit measured; "-dirty" when the working tree differs from it. */
  commit: string;
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  librdkafka: string;
  kafka: string;
  kcat: string;
  loadAverageAtStart: number[];
}

export function machineInfo(): Machine {
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const kafka = /<kafka\.version>([^<]+)</.exec(readFileSync(`${ROOT}scripts/kafka/pom.xml`, 'utf8'))?.[1] ?? 'unknown';
  // kcat links the distribution's librdkafka, not the client's: worth knowing when comparing the two.
  let kcat = 'not installed';
  try {
    const kcatVersion = /Version (\S+) .*librdkafka (\S+)/.exec(execFileSync('kcat', ['-V'], { encoding: 'utf8' }));
    kcat = kcatVersion === null ? 'unknown' : `${kcatVersion[1] ?? '?'} (librdkafka ${kcatVersion[2] ?? '?'})`;
  } catch {
    // --only input runs no kcat: bench.sh installs it for the runs that do.
  }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['describe', '--always', '--dirty', '--exclude', '*'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout: the figures still stand, only unattributed.
  }
  return {
    commit,
    nproc: os.availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    librdkafka: kafkaJavascript.librdkafkaVersion,
    kafka,
    kcat,
    loadAverageAtStart: os.loadavg(),
  };
}
