//! A real one-node Slurm cluster for the tests, started from Debian's packages (which
//! scripts/setup-slurm.sh installs): munged as the munge user, `slurmctld -D` and `slurmd -D`
//! as children, all their files in a temporary folder and on free ports, so nothing of the
//! machine's own configuration is touched. Dropping it stops the daemons by their process ids,
//! also when a test fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestCluster {
    dir: tempfile::TempDir,
    daemons: Vec<Child>,
    munged_pid: Option<u32>,
}

/// The programs the cluster needs, as installed by Debian.
const PROGRAMS: [&str; 4] = [
    "/usr/sbin/munged",
    "/usr/sbin/slurmctld",
    "/usr/sbin/slurmd",
    "/usr/bin/sbatch",
];

impl TestCluster {
    /// A running cluster, or None outside CI when Slurm is not installed or this is not root
    /// (said on stderr); under CI that is a failure.
    pub fn start() -> Option<TestCluster> {
        let missing: Vec<&str> = PROGRAMS
            .into_iter()
            .filter(|p| !Path::new(p).exists())
            .collect();
        let root = current_uid() == 0;
        if !missing.is_empty() || !root {
            let why = format!(
                "Slurm test cluster: missing {missing:?} or not root (scripts/setup-slurm.sh installs it)"
            );
            assert!(std::env::var_os("CI").is_none(), "{why}");
            eprintln!("skipped: {why}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut cluster = TestCluster {
            dir,
            daemons: Vec::new(),
            munged_pid: None,
        };
        cluster.write_conf();
        cluster.start_munged();
        for daemon in ["/usr/sbin/slurmctld", "/usr/sbin/slurmd"] {
            let name = Path::new(daemon).file_name().unwrap().to_string_lossy();
            let log = std::fs::File::create(cluster.path(&format!("{name}.out"))).unwrap();
            let child = Command::new(daemon)
                .args(["-D", "-f"])
                .arg(cluster.conf())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap();
            cluster.daemons.push(child);
        }
        cluster.wait_until_idle();
        Some(cluster)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn conf(&self) -> PathBuf {
        self.path("slurm.conf")
    }

    /// `program` (sbatch, squeue, scontrol, ddpm-exp …) talking to this cluster.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("SLURM_CONF", self.conf());
        cmd
    }

    fn write_conf(&self) {
        let host =
            String::from_utf8(Command::new("hostname").arg("-s").output().unwrap().stdout).unwrap();
        let host = host.trim();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let [ctld_port, d_port] = free_ports();
        let d = self.dir.path().display();
        let conf = format!(
            "ClusterName=ddpmtest\n\
             SlurmctldHost={host}(127.0.0.1)\n\
             SlurmUser=root\nSlurmdUser=root\n\
             AuthType=auth/munge\nAuthInfo=socket={d}/munge/munge.socket\n\
             MpiDefault=none\nProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n\
             SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\n\
             SchedulerType=sched/backfill\nReturnToService=2\n\
             JobAcctGatherType=jobacct_gather/none\nAccountingStorageType=accounting_storage/none\n\
             StateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\n\
             SlurmctldPidFile={d}/slurmctld.pid\nSlurmdPidFile={d}/slurmd.pid\n\
             SlurmctldLogFile={d}/slurmctld.log\nSlurmdLogFile={d}/slurmd.log\n\
             SlurmctldPort={ctld_port}\nSlurmdPort={d_port}\n\
             MinJobAge=600\n\
             NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN\n\
             PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP\n"
        );
        for sub in ["state", "spool"] {
            std::fs::create_dir_all(self.path(sub)).unwrap();
        }
        std::fs::write(self.conf(), conf).unwrap();
    }

    /// munged refuses to run as root: it runs as munge, in a folder of its own.
    fn start_munged(&mut self) {
        let munge = self.path("munge");
        std::fs::create_dir_all(&munge).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(self.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let owned = Command::new("chown")
            .args(["munge:munge"])
            .arg(&munge)
            .status()
            .unwrap();
        assert!(owned.success());
        let status = Command::new("runuser")
            .args(["-u", "munge", "--", "/usr/sbin/munged"])
            .arg(format!("--socket={}/munge.socket", munge.display()))
            .arg(format!("--pid-file={}/munged.pid", munge.display()))
            .arg(format!("--log-file={}/munged.log", munge.display()))
            .arg(format!("--seed-file={}/munged.seed", munge.display()))
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "munged did not start");
        let pid = std::fs::read_to_string(munge.join("munged.pid")).unwrap();
        self.munged_pid = pid.trim().parse().ok();
    }

    fn wait_until_idle(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = self
                .command("sinfo")
                .args(["-h", "-o", "%T"])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout).trim() == "idle" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the test cluster's node is not idle after 30 s; {}",
                std::fs::read_to_string(self.path("slurmctld.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until no job is left in the queue (`squeue` empty), at most `limit`.
    pub fn wait_for_empty_queue(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let out = self
                .command("squeue")
                .args(["-h", "-o", "%i %T"])
                .output()
                .unwrap();
            let queue = String::from_utf8_lossy(&out.stdout).to_string();
            if out.status.success() && queue.trim().is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "jobs still queued after {limit:?}:\n{queue}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// Two ports free now (both held until both are known, so they differ).
fn free_ports() -> [u16; 2] {
    let bind = || std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (a, b) = (bind(), bind());
    [
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    ]
}

fn current_uid() -> u32 {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(u32::MAX)
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for child in &mut self.daemons {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(pid) = self.munged_pid {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}
