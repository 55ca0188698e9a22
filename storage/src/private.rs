//! Directories only their owner can enter. What a cluster's daemons keep on
//! disk (block replicas, the namespace image and edit log, a worker's
//! shuffle files, their logs) is readable there without the cluster's
//! secret, and names what the secret guards (a log names a worker's id, a
//! shuffle directory a job's). So, as HDFS makes a datanode's data
//! directory 700 (`dfs.datanode.data.dir.perm`) and Hive its scratch
//! directory (`hive.scratch.dir.permission`), each daemon makes its
//! directory 0700 when it starts, whether it created it or found it.

use std::path::Path;

use crate::error::{Result, io};

/// Create `dir` (and its parents) if missing, and make it accessible to
/// its owner only. Fails, naming `dir`, when it cannot be made so (a
/// directory of another user, say).
pub fn private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(dir).map_err(io(format!("reading {}", dir.display())))?;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(io(format!("making {} private (mode 700)", dir.display())))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(dir: &Path) -> u32 {
        std::fs::metadata(dir).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_or_open_directory_becomes_its_owners_only() {
        let tmp = tempfile::tempdir().unwrap();
        let fresh = tmp.path().join("a/b");
        private_dir(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);
        let open = tmp.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&open).unwrap();
        assert_eq!(mode(&open), 0o700);
        // a stricter mode is left as it is
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o500)).unwrap();
        private_dir(&open).unwrap();
        assert_eq!(mode(&open), 0o500);
    }

    #[test]
    fn a_file_in_the_way_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let e = private_dir(&file).unwrap_err().to_string();
        assert!(e.contains(&file.display().to_string()), "{e}");
    }
}
