// The PostgreSQL JDBC driver against a live `hiveql serve`. Run by
// tests/tests/serve.rs: `java -cp postgresql.jar:DIR JdbcChecks URL USER PASSWORD`.
// Prints `ok NAME` per check; any failure throws (non-zero exit).

import java.sql.*;
import java.util.*;

public class JdbcChecks {
    static void check(boolean cond, String what) {
        if (!cond) throw new AssertionError(what);
    }

    public static void main(String[] args) throws Exception {
        try (Connection conn = DriverManager.getConnection(args[0], args[1], args[2])) {
            try (Statement st = conn.createStatement()) {
                st.execute("DROP TABLE IF EXISTS jdbc_t");
                st.execute("CREATE TABLE jdbc_t (id INT, name STRING COMMENT 'who', amount DECIMAL(10,2), day DATE) COMMENT 'jdbc rows'");
                int n = st.executeUpdate("INSERT INTO jdbc_t VALUES (1, 'a', 1.50, DATE '2024-01-01'), (2, 'b', 2.25, DATE '2024-01-02')");
                check(n == 2, "insert count " + n);
            }
            System.out.println("ok ddl");

            try (PreparedStatement ps = conn.prepareStatement("SELECT id, name, amount, day FROM jdbc_t WHERE id = ? AND name = ?")) {
                for (int i = 0; i < 10; i++) {
                    ps.setInt(1, 2);
                    ps.setString(2, "b");
                    try (ResultSet rs = ps.executeQuery()) {
                        check(rs.next(), "a row");
                        check(rs.getInt(1) == 2 && rs.getString(2).equals("b"), "values");
                        check(rs.getBigDecimal(3).compareTo(new java.math.BigDecimal("2.25")) == 0, "decimal " + rs.getBigDecimal(3));
                        check(rs.getDate(4).toString().equals("2024-01-02"), "date " + rs.getDate(4));
                        check(!rs.next(), "one row");
                        ResultSetMetaData md = rs.getMetaData();
                        check(md.getColumnCount() == 4, "columns");
                        check(md.getColumnName(1).equals("id") && md.getColumnType(1) == Types.INTEGER, "id int " + md.getColumnType(1));
                        check(md.getColumnType(2) == Types.VARCHAR, "name type " + md.getColumnType(2));
                        check(md.getColumnType(3) == Types.NUMERIC, "amount type " + md.getColumnType(3));
                        check(md.getColumnType(4) == Types.DATE, "day type " + md.getColumnType(4));
                    }
                }
            }
            System.out.println("ok prepared_statement");

            DatabaseMetaData meta = conn.getMetaData();
            List<String> schemas = new ArrayList<>();
            try (ResultSet rs = meta.getSchemas()) {
                while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM"));
            }
            check(schemas.contains("default"), "schemas " + schemas);
            System.out.println("ok get_schemas");

            List<String> tables = new ArrayList<>();
            try (ResultSet rs = meta.getTables(null, "default", "%", new String[] {"TABLE"})) {
                while (rs.next()) {
                    tables.add(rs.getString("TABLE_NAME"));
                    if (rs.getString("TABLE_NAME").equals("jdbc_t")) check("jdbc rows".equals(rs.getString("REMARKS")), "remarks " + rs.getString("REMARKS"));
                }
            }
            check(tables.contains("jdbc_t"), "tables " + tables);
            System.out.println("ok get_tables");

            Map<String, String> columns = new LinkedHashMap<>();
            try (ResultSet rs = meta.getColumns(null, "default", "jdbc_t", "%")) {
                while (rs.next()) {
                    columns.put(rs.getString("COLUMN_NAME"), rs.getString("TYPE_NAME"));
                    String remarks = rs.getString("REMARKS");
                    check(rs.getString("COLUMN_NAME").equals("name") ? "who".equals(remarks) : remarks == null, "column remarks " + remarks);
                }
            }
            check(columns.keySet().equals(new LinkedHashSet<>(List.of("id", "name", "amount", "day"))), "columns " + columns);
            System.out.println("ok get_columns " + columns);

            try (ResultSet rs = meta.getPrimaryKeys(null, "default", "jdbc_t")) {
                check(!rs.next(), "no primary key");
            }
            System.out.println("ok get_primary_keys");

            try (Statement st = conn.createStatement()) {
                try {
                    st.executeQuery("SELECT * FROM no_such_table");
                    throw new AssertionError("no error");
                } catch (SQLException e) {
                    check("42P01".equals(e.getSQLState()), "sqlstate " + e.getSQLState());
                }
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM jdbc_t")) {
                    check(rs.next() && rs.getLong(1) == 2, "usable after an error");
                }
            }
            System.out.println("ok errors");
        }
    }
}
