// What DBeaver and Metabase send through the PostgreSQL JDBC driver when they
// connect, list schemas, tables and columns, and read a table: their own
// catalog queries, as their sources write them (DBeaver's PostgreSQL plugin,
// Metabase's postgres driver), run as prepared statements against a live
// `hiveql serve`. Run by tests/tests/serve.rs:
// `java -cp postgresql.jar:DIR ToolQueries URL USER PASSWORD`.
// Prints `ok NAME` per check; any failure throws (non-zero exit).

import java.sql.*;
import java.util.*;

public class ToolQueries {
    static void check(boolean cond, String what) {
        if (!cond) throw new AssertionError(what);
    }

    /** The rows of `sql` with `params` bound, each row its columns by name. */
    static List<Map<String, Object>> rows(Connection conn, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) ps.setObject(i + 1, params[i]);
            try (ResultSet rs = ps.executeQuery()) {
                ResultSetMetaData md = rs.getMetaData();
                List<Map<String, Object>> out = new ArrayList<>();
                while (rs.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int c = 1; c <= md.getColumnCount(); c++) row.put(md.getColumnLabel(c), rs.getObject(c));
                    out.add(row);
                }
                return out;
            }
        } catch (SQLException e) {
            throw new SQLException(e.getMessage() + "\n  in: " + sql, e.getSQLState(), e);
        }
    }

    static void dbeaver(Connection conn) throws SQLException {
        List<Map<String, Object>> r = rows(conn, "SELECT current_schema(),session_user");
        check("default".equals(r.get(0).values().iterator().next()), "current_schema " + r);
        r = rows(conn, "SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname=?", "default");
        check(r.size() == 1, "the connected database by name " + r);
        r = rows(conn, """
            SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n
            LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass
             ORDER BY nspname""");
        long schemaOid = -1;
        for (Map<String, Object> row : r) if ("default".equals(row.get("nspname"))) schemaOid = ((Number) row.get("oid")).longValue();
        check(schemaOid > 0, "namespaces " + r);
        rows(conn, """
            SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description
            FROM pg_catalog.pg_type t
            LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem
            LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid
            LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid
            WHERE t.typname IS NOT NULL
            AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C')""");
        rows(conn, "SELECT a.oid,a.* FROM pg_catalog.pg_roles a ORDER BY a.rolname");
        rows(conn, "SELECT am.oid,am.* FROM pg_catalog.pg_am am ORDER BY am.oid");
        rows(conn, "select * from pg_catalog.pg_settings where name=?", "standard_conforming_strings");
        rows(conn, "SELECT c.contoencoding as encid,pg_catalog.pg_encoding_to_char(c.contoencoding) as encname FROM pg_catalog.pg_conversion c GROUP BY c.contoencoding ORDER BY 2");
        rows(conn, "SELECT t.oid,t.*,pg_tablespace_location(t.oid) loc FROM pg_catalog.pg_tablespace t ORDER BY t.oid");
        System.out.println("ok dbeaver_connect");

        r = rows(conn, """
            SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key 
            FROM pg_catalog.pg_class c
            LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass
            WHERE c.relnamespace=? AND c.relkind not in ('i','I','c')""", schemaOid);
        long tableOid = -1;
        for (Map<String, Object> row : r) {
            if ("tool_t".equals(row.get("relname"))) {
                tableOid = ((Number) row.get("oid")).longValue();
                check("sales by day".equals(row.get("description")), "the table's comment " + row);
            }
        }
        check(tableOid > 0, "tables " + r);
        r = rows(conn, """
            SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description
            FROM pg_catalog.pg_attribute a
            INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)
            LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)
            LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)
            WHERE NOT a.attisdropped AND c.oid=? ORDER BY a.attnum""", tableOid);
        List<String> names = new ArrayList<>();
        for (Map<String, Object> row : r) names.add((String) row.get("attname"));
        check(names.equals(List.of("id", "name", "amount", "day")), "columns " + names);
        check(((Number) r.get(0).get("atttypid")).intValue() == 23, "id is int4 " + r.get(0));
        check("the key".equals(r.get(0).get("description")) && r.get(1).get("description") == null, "column comments " + r);
        rows(conn, """
            SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description, case when c.contype='c' then "substring"(pg_get_constraintdef(c.oid), 7) else null end consrc_copy
            FROM pg_catalog.pg_constraint c
            INNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid
            LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid
            LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_constraint'::regclass
            WHERE c.conrelid=?
            ORDER BY c.oid""", tableOid);
        rows(conn, "SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,dsc.description,pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans FROM pg_catalog.pg_index i INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid INNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid LEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid WHERE i.indrelid=? ORDER BY c.relname", tableOid);
        rows(conn, "SELECT i.*,c.relnamespace FROM pg_catalog.pg_inherits i,pg_catalog.pg_class c WHERE i.inhrelid=? AND c.oid=i.inhparent ORDER BY i.inhseqno", tableOid);
        rows(conn, "select c.oid,pg_catalog.pg_total_relation_size(c.oid) as total_rel_size,pg_catalog.pg_relation_size(c.oid) as rel_size FROM pg_class c WHERE c.relnamespace=?", schemaOid);
        rows(conn, "SELECT x.oid,x.*,p.pronamespace as func_schema_id,d.description FROM pg_catalog.pg_trigger x LEFT OUTER JOIN pg_catalog.pg_proc p ON p.oid=x.tgfoid LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=x.oid AND d.objsubid=0 WHERE x.tgrelid = ? AND NOT x.tgisinternal", tableOid);
        rows(conn, "SELECT r.oid,r.*, pg_get_ruledef(r.oid) AS definition FROM pg_rewrite r WHERE r.ev_class=? AND r.rulename <> '_RETURN'::name", tableOid);
        rows(conn, "select * from pg_catalog.pg_policies where schemaname=? and tablename=?", "default", "tool_t");
        System.out.println("ok dbeaver_navigation");

        // the data tab
        r = rows(conn, "SELECT t.* FROM \"default\".tool_t t LIMIT 200");
        check(r.size() == 2, "data " + r);
        System.out.println("ok dbeaver_data");
    }

    static void metabase(Connection conn) throws SQLException {
        List<Map<String, Object>> r = rows(conn, "show timezone;");
        check(r.size() == 1, "timezone " + r);
        rows(conn, "SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e)");
        r = rows(conn, """
            with table_privileges as (
             select
               NULL as role,
               t.schemaname as schema,
               t.objectname as table,
               pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'update') as update,
               pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'select') as select,
               pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'insert') as insert,
               pg_catalog.has_table_privilege(     current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'delete') as delete
             from (
               select schemaname, tablename as objectname from pg_catalog.pg_tables
               union
               select schemaname, viewname as objectname from pg_catalog.pg_views
               union
               select schemaname, matviewname as objectname from pg_catalog.pg_matviews
             ) t
             where t.schemaname !~ '^pg_'
               and t.schemaname <> 'information_schema'
               and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')
            )
            select t.*
            from table_privileges t""");
        boolean readable = false;
        for (Map<String, Object> row : r) readable |= "tool_t".equals(row.get("table")) && Boolean.TRUE.equals(row.get("select"));
        check(readable, "privileges " + r);
        r = rows(conn, """
            SELECT "n"."nspname" AS "schema", "c"."relname" AS "name", CASE "c"."relkind" WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS "type", "d"."description" AS "description", "stat"."n_live_tup" AS "estimated_row_count" FROM "pg_catalog"."pg_class" AS "c" INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "c"."relnamespace" = "n"."oid" LEFT JOIN "pg_catalog"."pg_description" AS "d" ON ("c"."oid" = "d"."objoid") AND ("d"."objsubid" = 0) AND ("d"."classoid" = 'pg_class'::regclass) LEFT JOIN "pg_stat_user_tables" AS "stat" ON ("n"."nspname" = "stat"."schemaname") AND ("c"."relname" = "stat"."relname") WHERE ("c"."relnamespace" = "n"."oid") AND ("n"."nspname" !~ ?) AND ("n"."nspname" <> ?) AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND ("n"."nspname" IN (?)) ORDER BY "type" ASC, "schema" ASC, "name" ASC""",
            "^pg_", "information_schema", "default");
        boolean listed = false;
        for (Map<String, Object> row : r) {
            listed |= "tool_t".equals(row.get("name")) && "TABLE".equals(row.get("type")) && "sales by day".equals(row.get("description"));
        }
        check(listed, "tables " + r);
        System.out.println("ok metabase_tables");

        r = rows(conn, """
            SELECT "c"."column_name" AS "name", CASE WHEN "c"."udt_schema" IN ('public', 'pg_catalog') THEN FORMAT('%s', "c"."udt_name") ELSE FORMAT('"%s"."%s"', "c"."udt_schema", "c"."udt_name") END AS "database-type", "c"."ordinal_position" - 1 AS "database-position", "c"."table_schema" AS "table-schema", "c"."table_name" AS "table-name", "pk"."column_name" IS NOT NULL AS "pk?", COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', CAST("c"."table_schema" AS TEXT), CAST("c"."table_name" AS TEXT)) AS REGCLASS) AS OID), "c"."ordinal_position") AS "field-comment", (("column_default" IS NULL) OR (LOWER("column_default") = 'null')) AND ("is_nullable" = 'NO') AND NOT ((("column_default" IS NOT NULL) AND ("column_default" LIKE '%nextval(%')) OR ("is_identity" <> 'NO')) AS "database-required", (("column_default" IS NOT NULL) AND ("column_default" LIKE '%nextval(%')) OR ("is_identity" <> 'NO') AS "database-is-auto-increment" FROM "information_schema"."columns" AS "c" LEFT JOIN (SELECT "tc"."table_schema", "tc"."table_name", "kc"."column_name" FROM "information_schema"."table_constraints" AS "tc" INNER JOIN "information_schema"."key_column_usage" AS "kc" ON ("tc"."constraint_name" = "kc"."constraint_name") AND ("tc"."table_schema" = "kc"."table_schema") AND ("tc"."table_name" = "kc"."table_name") WHERE "tc"."constraint_type" = 'PRIMARY KEY') AS "pk" ON ("c"."table_schema" = "pk"."table_schema") AND ("c"."table_name" = "pk"."table_name") AND ("c"."column_name" = "pk"."column_name") WHERE c.table_schema !~ '^information_schema|catalog_history|pg_' AND ("c"."table_schema" IN (?)) AND ("c"."table_name" IN (?)) UNION ALL SELECT "pa"."attname" AS "name", CASE WHEN "ptn"."nspname" IN ('public', 'pg_catalog') THEN FORMAT('%s', "pt"."typname") ELSE FORMAT('"%s"."%s"', "ptn"."nspname", "pt"."typname") END AS "database-type", "pa"."attnum" - 1 AS "database-position", "pn"."nspname" AS "table-schema", "pc"."relname" AS "table-name", FALSE AS "pk?", NULL AS "field-comment", FALSE AS "database-required", FALSE AS "database-is-auto-increment" FROM "pg_catalog"."pg_class" AS "pc" INNER JOIN "pg_catalog"."pg_namespace" AS "pn" ON "pn"."oid" = "pc"."relnamespace" INNER JOIN "pg_catalog"."pg_attribute" AS "pa" ON "pa"."attrelid" = "pc"."oid" INNER JOIN "pg_catalog"."pg_type" AS "pt" ON "pt"."oid" = "pa"."atttypid" INNER JOIN "pg_catalog"."pg_namespace" AS "ptn" ON "ptn"."oid" = "pt"."typnamespace" WHERE ("pc"."relkind" = 'm') AND ("pa"."attnum" >= 1) AND ("pn"."nspname" IN (?)) AND ("pc"."relname" IN (?)) ORDER BY "table-schema" ASC, "table-name" ASC, "database-position" ASC""",
            "default", "tool_t", "default", "tool_t");
        List<String> fields = new ArrayList<>();
        for (Map<String, Object> row : r) fields.add(row.get("name") + ":" + row.get("database-type"));
        check(fields.equals(List.of("id:int4", "name:text", "amount:numeric", "day:date")), "fields " + fields);
        rows(conn, """
            SELECT "fk_ns"."nspname" AS "fk-table-schema", "fk_table"."relname" AS "fk-table-name", "fk_column"."attname" AS "fk-column-name", "pk_ns"."nspname" AS "pk-table-schema", "pk_table"."relname" AS "pk-table-name", "pk_column"."attname" AS "pk-column-name" FROM "pg_constraint" AS "c" INNER JOIN "pg_class" AS "fk_table" ON "c"."conrelid" = "fk_table"."oid" INNER JOIN "pg_namespace" AS "fk_ns" ON "c"."connamespace" = "fk_ns"."oid" INNER JOIN "pg_attribute" AS "fk_column" ON "c"."conrelid" = "fk_column"."attrelid" INNER JOIN "pg_class" AS "pk_table" ON "c"."confrelid" = "pk_table"."oid" INNER JOIN "pg_namespace" AS "pk_ns" ON "pk_table"."relnamespace" = "pk_ns"."oid" INNER JOIN "pg_attribute" AS "pk_column" ON "c"."confrelid" = "pk_column"."attrelid" WHERE fk_ns.nspname !~ '^information_schema|catalog_history|pg_' AND ("c"."contype" = 'f'::char) AND ("fk_column"."attnum" = ANY(c.conkey)) AND ("pk_column"."attnum" = ANY(c.confkey)) AND ("fk_ns"."nspname" IN (?)) ORDER BY "fk-table-schema" ASC, "fk-table-name" ASC""",
            "default");
        System.out.println("ok metabase_fields");

        // the questions it asks of the data
        r = rows(conn, "SELECT \"default\".\"tool_t\".\"id\" AS \"id\", \"default\".\"tool_t\".\"name\" AS \"name\" FROM \"default\".\"tool_t\" LIMIT 2000");
        check(r.size() == 2, "rows " + r);
        r = rows(conn, "SELECT \"default\".\"tool_t\".\"name\" AS \"name\", COUNT(*) AS \"count\" FROM \"default\".\"tool_t\" GROUP BY \"default\".\"tool_t\".\"name\" ORDER BY \"default\".\"tool_t\".\"name\" ASC");
        check(r.size() == 2 && "a".equals(r.get(0).get("name")) && ((Number) r.get(0).get("count")).longValue() == 1, "grouped " + r);
        System.out.println("ok metabase_questions");
    }

    public static void main(String[] args) throws Exception {
        try (Connection conn = DriverManager.getConnection(args[0], args[1], args[2])) {
            try (Statement st = conn.createStatement()) {
                st.execute("DROP TABLE IF EXISTS tool_t");
                st.execute("CREATE TABLE tool_t (id INT COMMENT 'the key', name STRING, amount DECIMAL(10,2), day DATE) COMMENT 'sales by day'");
                st.executeUpdate("INSERT INTO tool_t VALUES (1, 'a', 1.50, DATE '2024-01-01'), (2, 'b', 2.25, DATE '2024-01-02')");
            }
            dbeaver(conn);
            metabase(conn);
        }
    }
}
