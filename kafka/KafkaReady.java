// Readiness probe used by scripts/kafka-local. Started right after the broker(s)
// (so the JVMs warm up in parallel), it polls (1) until every listener accepts
// a TCP connection, then (2) with Kafka's own AdminClient until the brokers
// answer Metadata (describeCluster + listTopics), or a deadline passes. Given
// EXPECTED_NODES (a cluster), (2) also needs that many brokers in the metadata
// (registered and unfenced) and a leader of the KRaft metadata quorum.
// Compiled once per Kafka version against the cached jars.
//
//   java -cp "$LIBS/*:$PROBE_DIR" KafkaReady 127.0.0.1:19092 60000
//   java -cp "$LIBS/*:$PROBE_DIR" KafkaReady 127.0.0.1:19092,127.0.0.1:19102,127.0.0.1:19112 60000 3
//
// Exit 0 and one line "ready ..." on success, exit 1 on timeout.

import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.QuorumInfo;

public final class KafkaReady {
    public static void main(String[] args) throws Exception {
        if (args.length != 2 && args.length != 3) {
            System.err.println("usage: KafkaReady HOST:PORT[,HOST:PORT...] DEADLINE_MS [EXPECTED_NODES]");
            System.exit(2);
        }
        String bootstrap = args[0];
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[1]));
        int expected = args.length == 3 ? Integer.parseInt(args[2]) : 0;

        for (String server : bootstrap.split(",")) {
            int colon = server.lastIndexOf(':');
            InetSocketAddress addr = new InetSocketAddress(server.substring(0, colon),
                    Integer.parseInt(server.substring(colon + 1)));
            while (true) {
                try (Socket s = new Socket()) {
                    s.connect(addr, 500);
                    break;
                } catch (java.io.IOException e) {
                    if (System.nanoTime() >= deadline) {
                        System.err.println("port " + server + " not open before deadline: " + e.getMessage());
                        System.exit(1);
                    }
                    Thread.sleep(100);
                }
            }
        }
        long portOpenMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "sagasim-kafka-ready");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "100");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "250");
        p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "100");

        String last = "no attempt";
        Admin admin = Admin.create(p);
        try {
            while (System.nanoTime() < deadline) {
                try {
                    DescribeClusterResult c = admin.describeCluster();
                    String clusterId = c.clusterId().get(3, TimeUnit.SECONDS);
                    int nodes = c.nodes().get(3, TimeUnit.SECONDS).size();
                    int topics = admin.listTopics(new ListTopicsOptions().listInternal(true))
                            .names().get(3, TimeUnit.SECONDS).size();
                    if (expected == 0 && nodes > 0) {
                        System.out.println("ready cluster_id=" + clusterId + " nodes=" + nodes
                                + " topics=" + topics + " port_open_ms=" + portOpenMs + " metadata_ms="
                                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                        return;
                    }
                    if (expected > 0 && nodes >= expected) {
                        QuorumInfo quorum = admin.describeMetadataQuorum().quorumInfo().get(3, TimeUnit.SECONDS);
                        if (quorum.leaderId() >= 0) {
                            System.out.println("ready cluster_id=" + clusterId + " nodes=" + nodes
                                    + " quorum_leader=" + quorum.leaderId() + " voters=" + quorum.voters().size()
                                    + " topics=" + topics + " port_open_ms=" + portOpenMs + " metadata_ms="
                                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                            return;
                        }
                        last = "the metadata quorum has no leader yet";
                    } else {
                        last = nodes == 0 ? "metadata has no brokers yet"
                                          : "metadata lists " + nodes + " of " + expected + " brokers";
                    }
                } catch (Exception e) {
                    Throwable t = e.getCause() != null ? e.getCause() : e;
                    last = t.getClass().getSimpleName() + ": " + t.getMessage();
                }
                Thread.sleep(200);
            }
        } finally {
            admin.close(Duration.ofSeconds(2));
        }
        System.err.println("not ready before deadline: " + last);
        System.exit(1);
    }
}
