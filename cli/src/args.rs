//! The command line, as Hive CLI and beeline users know it.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// How query results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Boxed table (beeline's `table`).
    Table,
    /// Tab-separated values.
    Tsv2,
    /// Comma-separated values (quoted where needed).
    Csv2,
    /// `{"resultset":[{...},...]}`.
    Json,
    /// One `column value` line per column, rows separated by a blank line.
    Vertical,
}

/// The hiveql home of a block store command: where the cluster secret
/// (`cluster.secret`) and configuration (`hiveql.conf`) are.
#[derive(Debug, Clone, clap::Args)]
pub struct HomeArg {
    /// The hiveql home [default: ~/.hiveql].
    #[arg(long = "home", env = "HIVEQL_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
}

impl HomeArg {
    pub fn dir(&self) -> PathBuf {
        home_or_default(self.home.clone())
    }
}

/// How a daemon logs.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArg {
    /// Log level or filter (error, warn, info, debug, trace, or RUST_LOG
    /// syntax such as `hiveql_storage=debug`) [default: RUST_LOG, else info].
    #[arg(long = "log-level", value_name = "FILTER")]
    pub log_level: Option<String>,
    /// Append the log to this file instead of standard error.
    #[arg(long = "log-file", value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

/// How block store clients find the namenode.
#[derive(Debug, Clone, clap::Args)]
pub struct NamenodeArg {
    /// The namenode, HOST:PORT [default: fs.defaultFS in $HIVEQL_HOME/hiveql.conf].
    #[arg(long, env = "HIVEQL_NAMENODE")]
    pub namenode: Option<String>,
    #[command(flatten)]
    pub home: HomeArg,
}

/// `hiveql cluster` actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClusterAction {
    Start,
    Stop,
    Status,
}

/// The roles of the `hiveql` binary besides the SQL shell.
#[derive(Debug, Subcommand)]
pub enum Role {
    /// Run the block store's namenode (the namespace and block map).
    Namenode {
        /// Directory of the image and edit log; repeat it to keep a full
        /// copy in each (HDFS's dfs.namenode.name.dir). At start the copies
        /// are checked against each other and a missing, stale or corrupt
        /// one is restored from the best.
        #[arg(long = "dir", required = true)]
        dir: Vec<PathBuf>,
        /// Start even though an edit log is damaged before its end: keep
        /// the records before the damage, drop the rest (saying how many),
        /// and save the damaged log beside it.
        #[arg(long)]
        recover: bool,
        /// Port to listen on (0: any free port; the address is printed).
        #[arg(long, default_value_t = 8020)]
        port: u16,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Seconds without a heartbeat after which a datanode is dead.
        #[arg(long, default_value_t = 30)]
        dead_after_secs: u64,
        /// Seconds without a lease renewal after which a writer's files are recovered.
        #[arg(long, default_value_t = 60)]
        lease_secs: u64,
        /// Milliseconds between rounds of the replication monitor.
        #[arg(long, default_value_t = 3000)]
        monitor_ms: u64,
        /// After a restart, stay in safe mode (reads only) until this share
        /// of the blocks has a reported replica.
        #[arg(long, default_value_t = 0.999)]
        safe_mode_threshold: f64,
        #[command(flatten)]
        log: LogArg,
        #[command(flatten)]
        home: HomeArg,
    },
    /// Run a datanode storing block replicas in DIR.
    Datanode {
        /// The namenode, HOST:PORT.
        #[arg(long)]
        namenode: String,
        #[arg(long)]
        dir: PathBuf,
        /// Port to listen on (0: any free port; the address is printed).
        #[arg(long, default_value_t = 0)]
        port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// The rack of this node (rack-aware replica placement).
        #[arg(long, default_value = "/default-rack")]
        rack: String,
        /// Milliseconds between heartbeats.
        #[arg(long, default_value_t = 3000)]
        heartbeat_ms: u64,
        /// The most bytes to store here [default: what the disk has free].
        #[arg(long)]
        capacity: Option<u64>,
        /// Seconds between block scans (every replica read and checked against its
        /// checksums) [default: three weeks, as HDFS].
        #[arg(long, default_value_t = 21 * 24 * 3600)]
        scan_secs: u64,
        #[command(flatten)]
        log: LogArg,
        #[command(flatten)]
        home: HomeArg,
    },
    /// Run the query scheduler (Ballista's): sessions with `--cluster HOST:PORT`
    /// send it their plans; it cuts them into stages and hands tasks to workers.
    Scheduler {
        /// Port to listen on (0: any free port; the address is printed).
        #[arg(long, default_value_t = 50050)]
        port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Place tasks as Ballista's own "bias" policy does, ignoring where
        /// the blocks they read are (the log still counts local placements).
        #[arg(long)]
        no_locality: bool,
        #[command(flatten)]
        log: LogArg,
        #[command(flatten)]
        home: HomeArg,
    },
    /// Run a worker (Ballista's executor) that takes tasks from the scheduler.
    Worker {
        /// The scheduler, HOST:PORT.
        #[arg(long)]
        scheduler: String,
        /// Port shuffle reads reach this worker on; the next port is its gRPC port
        /// (0: any free pair).
        #[arg(long, default_value_t = 50051)]
        port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Tasks run at once [default: the cores of this machine].
        #[arg(long)]
        slots: Option<usize>,
        /// Memory the tasks share, as bytes or with K/M/G (they spill beyond it).
        #[arg(long, value_parser = parse_size)]
        memory: Option<u64>,
        /// Directory for shuffle files [default: a temporary directory].
        #[arg(long = "work-dir")]
        work_dir: Option<PathBuf>,
        #[command(flatten)]
        log: LogArg,
        #[command(flatten)]
        home: HomeArg,
    },
    /// File commands on the block store, as `hadoop fs` has them:
    /// -ls [-R] [-h] | -mkdir [-p] | -put [-f] LOCAL... DST | -get SRC LOCAL | -cat | -rm [-r] [-f] |
    /// -mv SRC DST | -cp [-f] SRC DST | -du [-s] [-h] | -setrep N PATH | -stat.
    /// Paths are `dfs://HOST:PORT/path`, or `/path` on the default namenode.
    Dfs {
        #[command(flatten)]
        namenode: NamenodeArg,
        /// Block size in bytes of files written.
        #[arg(long)]
        block_size: Option<u64>,
        /// Replication factor of files written.
        #[arg(long, default_value_t = 3)]
        replication: u16,
        /// The command and its arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// Cluster administration, as `hdfs dfsadmin`: -report (live and dead
    /// datanodes, capacity, used, under-replicated, corrupt and missing blocks),
    /// -safemode get|enter|leave.
    Dfsadmin {
        #[command(flatten)]
        namenode: NamenodeArg,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// Check files' health, as `hdfs fsck`: fsck PATH [-files [-blocks [-locations]]].
    Fsck {
        #[command(flatten)]
        namenode: NamenodeArg,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// A local block store cluster (a namenode and datanodes as background
    /// processes under $HIVEQL_HOME/cluster), for trying dfs:// tables.
    Cluster {
        action: ClusterAction,
        /// Datanodes to start.
        #[arg(long, default_value_t = 3)]
        datanodes: usize,
        /// Query workers to start, with a query scheduler (0: none; queries run in-process).
        #[arg(long, default_value_t = 0)]
        workers: usize,
        /// The namenode's port.
        #[arg(long, default_value_t = 8020)]
        port: u16,
        #[command(flatten)]
        home: HomeArg,
    },
    /// Serve the PostgreSQL wire protocol on the home's metastore: psql,
    /// JDBC, psycopg and BI tools connect with their PostgreSQL drivers.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port to listen on (0: any free port; the address is printed).
        #[arg(long, default_value_t = 5432)]
        port: u16,
        /// How clients log in: scram (SCRAM-SHA-256, the default), password
        /// (cleartext, for TLS connections) or trust (anyone; loopback only).
        #[arg(long, value_enum, default_value = "scram")]
        auth: ServeAuth,
        /// Let --auth trust accept clients that are not on loopback.
        #[arg(long)]
        allow_remote_trust: bool,
        /// PEM certificate chain for TLS (with --tls-key).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key for TLS (with --tls-cert).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Refuse connections that do not use TLS.
        #[arg(long)]
        require_tls: bool,
        /// Run the sessions' queries on a cluster's scheduler, HOST:PORT.
        #[arg(long, env = "HIVEQL_CLUSTER")]
        cluster: Option<String>,
        /// A setting every session starts with (repeatable).
        #[arg(long = "hiveconf", value_name = "K=V", value_parser = key_value)]
        hiveconf: Vec<(String, String)>,
        /// A variable every session starts with (repeatable).
        #[arg(long = "hivevar", value_name = "K=V", value_parser = key_value)]
        hivevar: Vec<(String, String)>,
        #[command(flatten)]
        log: LogArg,
        #[command(flatten)]
        home: HomeArg,
    },
    /// The users `hiveql serve` lets in (kept as SCRAM verifiers in the home).
    User {
        #[command(subcommand)]
        action: UserAction,
        #[command(flatten)]
        home: HomeArg,
    },
}

/// `hiveql serve --auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServeAuth {
    Scram,
    Password,
    Trust,
}

/// `hiveql user` actions.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add a user, or change its password: asked for on a terminal, else
    /// the first line of standard input.
    Add { name: String },
    /// List the users.
    List,
    /// Remove a user.
    Remove { name: String },
}

/// HIVEQL_HOME, defaulting to ~/.hiveql.
pub fn home_or_default(home: Option<PathBuf>) -> PathBuf {
    home.unwrap_or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
        home.join(".hiveql")
    })
}

fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got '{s}'")),
    }
}

/// hiveql: a Hive/Athena-compatible SQL engine.
///
/// With no -e/-f and a terminal on standard input, starts the interactive
/// shell (statements end with `;`, `quit;` leaves, Ctrl-C cancels the running
/// query). Otherwise runs the statements of -e, -f FILE (`-f -` is standard
/// input) or a pipe, stopping at the first error unless --force.
///
/// Variables: `${name}`, `${hivevar:name}`, `${hiveconf:name}`, `${env:NAME}`
/// are replaced in statements; set them with --hivevar/-d, --hiveconf or
/// `SET hivevar:name=value;` in the script.
///
/// Everything runs in-process on the embedded metastore in HIVEQL_HOME
/// (default ~/.hiveql): `metastore.db` and `warehouse/`.
#[derive(Debug, Parser)]
#[command(name = "hiveql", version, verbatim_doc_comment, args_conflicts_with_subcommands = true)]
pub struct Args {
    /// Another role than the SQL shell: a block store daemon or its file commands.
    #[command(subcommand)]
    pub role: Option<Role>,

    /// Run these statements (separated by `;`) and exit.
    #[arg(short = 'e', value_name = "SQL", conflicts_with = "file", allow_hyphen_values = true)]
    pub execute: Option<String>,

    /// Run the statements of this script file (`-` for standard input) and exit.
    #[arg(short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Define a variable for substitution, as `${K}` or `${hivevar:K}` (repeatable).
    #[arg(long = "hivevar", short = 'd', alias = "define", value_name = "K=V", value_parser = key_value)]
    pub hivevar: Vec<(String, String)>,

    /// Run queries on the cluster whose scheduler is at HOST:PORT [default:
    /// hiveql.cluster in $HIVEQL_HOME/hiveql.conf; none: in-process].
    #[arg(long = "cluster", value_name = "HOST:PORT")]
    pub cluster: Option<String>,

    /// Set a session property, e.g. hive.metastore.warehouse.dir=/data/wh (repeatable).
    #[arg(long = "hiveconf", value_name = "K=V", value_parser = key_value)]
    pub hiveconf: Vec<(String, String)>,

    /// Result format [default: table on a terminal, tsv2 otherwise].
    #[arg(long = "outputformat", value_enum, value_name = "FORMAT")]
    pub output_format: Option<OutputFormat>,

    /// Print column names above the results.
    #[arg(long = "showHeader", value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub show_header: bool,

    /// Print no status lines (OK, timings, row counts), only results and errors.
    #[arg(long = "silent", short = 'S', default_value_t = false, action = clap::ArgAction::SetTrue)]
    pub silent: bool,

    /// Keep going after a failing statement (exit status is still non-zero).
    #[arg(long = "force", default_value_t = false)]
    pub force: bool,

    /// The hiveql home: metastore.db, warehouse/ and the REPL history.
    #[arg(long = "home", env = "HIVEQL_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
}

impl Args {
    /// The logging of this invocation: daemons take their `--log-level`
    /// and `--log-file`; everything else logs warnings to standard error.
    pub fn log(&self) -> (Option<String>, Option<PathBuf>, &'static str) {
        match &self.role {
            Some(
                Role::Namenode { log, .. }
                | Role::Datanode { log, .. }
                | Role::Scheduler { log, .. }
                | Role::Worker { log, .. }
                | Role::Serve { log, .. },
            ) => (log.log_level.clone(), log.log_file.clone(), "info"),
            _ => (None, None, "warn"),
        }
    }

    /// The script to run, or `None` for interactive/standard input.
    pub fn script(&self) -> Result<Option<String>, String> {
        if let Some(e) = &self.execute {
            return Ok(Some(e.clone()));
        }
        match &self.file {
            None => Ok(None),
            Some(p) if p.as_os_str() == "-" => {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| format!("reading standard input: {e}"))?;
                Ok(Some(s))
            }
            Some(p) => {
                std::fs::read_to_string(p).map(Some).map_err(|e| format!("cannot read script {}: {e}", p.display()))
            }
        }
    }

    /// HIVEQL_HOME, defaulting to ~/.hiveql.
    pub fn home_dir(&self) -> PathBuf {
        home_or_default(self.home.clone())
    }
}

/// A size in bytes, with an optional K, M or G (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let n: u64 = digits.parse().map_err(|_| format!("'{s}' is not a size (e.g. 4G, 512M, 1048576)"))?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" => 10,
        "M" | "MB" => 20,
        "G" | "GB" => 30,
        _ => return Err(format!("'{s}': unknown unit '{unit}' (K, M or G)")),
    };
    n.checked_mul(1 << shift).ok_or_else(|| format!("'{s}' is too large"))
}
