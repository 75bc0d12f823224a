// W1-W3 for the Java producer at equal work (`npm run bench`, issue 14): Kafka's ProducerPerformance
// sends unkeyed records, so its batches fill one partition at a time while the Node runners' keyed
// records spread over six. This single-file program sends exactly what bench/clients/ours.ts sends:
// keys key-<i mod 10000> (serialized per record, as the Node runners build theirs), values
// payloads[i mod n] from the harness's payload file, one callback per record counting its outcome.
// send() blocks when buffer.memory is full (Java's own backpressure), as our loop waits on _QUEUE_FULL.
// Latency runs from the moment the record is in the accumulator (send() returned) to its callback: our
// loop starts its clock on the produce() call that succeeds, after any wait for space, so neither
// counts the time a record waited to be accepted. Run with the JDK's source launcher, no build step:
//
//   java -cp '<kafka libs>/*' bench/java/ProducerLoad.java --bootstrap-servers host:port --topic t
//     --records 1000000 --payload-file payloads-100.txt [--keyed true] [--acks all]
//     [--idempotence true] [--compression lz4] [--linger-ms 5] [--batch-size N] [--rate R]
//     [--max-request-size N]
//     [--command-config file.properties]
//
// One warm-up record is sent and waited for before the timing (metadata, connection, producer id), as
// in the Node runners. CPU is this JVM's process CPU time over the timed part only (JVM start-up and
// the source compilation are outside it; JIT compilation during the run is inside, as V8's is for
// Node). Output (stdout), parsed by bench/java-runner.ts:
//   PROGRESS <records reported>                       at most every 250 ms
//   LOAD_SUMMARY delivered=N errors=N elapsed_ms=X cpu_ms=X p50_ms=X p99_ms=X p999_ms=X max_ms=X first_error=...

import java.io.FileInputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class ProducerLoad {
    public static void main(String[] argv) throws Exception {
        Map<String, String> args = parseArgs(argv);
        String topic = required(args, "topic");
        int records = Integer.parseInt(required(args, "records"));
        boolean keyed = Boolean.parseBoolean(args.getOrDefault("keyed", "true"));
        double rate = Double.parseDouble(args.getOrDefault("rate", "-1"));
        List<byte[]> payloads = readPayloads(required(args, "payload-file"));

        Properties props = new Properties();
        if (args.containsKey("command-config")) {
            try (FileInputStream in = new FileInputStream(args.get("command-config"))) {
                props.load(in);
            }
        }
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, required(args, "bootstrap-servers"));
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "bench-java");
        props.put(ProducerConfig.ACKS_CONFIG, args.getOrDefault("acks", "all"));
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, args.getOrDefault("idempotence", "true"));
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, args.getOrDefault("compression", "none"));
        props.put(ProducerConfig.LINGER_MS_CONFIG, args.getOrDefault("linger-ms", "5"));
        if (args.containsKey("batch-size")) props.put(ProducerConfig.BATCH_SIZE_CONFIG, args.get("batch-size"));
        if (args.containsKey("max-request-size"))
            props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, args.get("max-request-size"));
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

        // Latencies in µs, one slot per record, written by the callbacks (the sender thread); the
        // moment each send() returned, written by this thread (atomic: the callback reads it).
        long[] latencyUs = new long[records];
        AtomicLongArray accepted = new AtomicLongArray(records);
        AtomicLong delivered = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong lastReport = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

        long start;
        long cpuStart;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            producer.send(new ProducerRecord<>(topic, bytes("warmup"), payloads.get(0))).get();

            cpuStart = os.getProcessCpuTime();
            start = System.nanoTime();
            long lastProgress = start;
            for (int i = 0; i < records; i++) {
                if (rate > 0) {
                    long due = start + (long) (i * 1e9 / rate);
                    long wait = due - System.nanoTime();
                    if (wait > 1_000_000L) Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
                }
                final int slot = i;
                final long before = System.nanoTime();
                byte[] key = keyed ? bytes("key-" + (i % 10000)) : null;
                Callback cb = (metadata, e) -> {
                    long now = System.nanoTime();
                    long t = accepted.get(slot);
                    long t0 = t != 0 ? t : before; // an answer faster than the line after send(): unseen, kept safe
                    if (e != null) {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, e.toString());
                        latencyUs[slot] = -1;
                    } else {
                        delivered.incrementAndGet();
                        latencyUs[slot] = (now - t0) / 1000;
                    }
                    lastReport.set(now);
                };
                producer.send(new ProducerRecord<>(topic, key, payloads.get(i % payloads.size())), cb);
                long now = System.nanoTime();
                accepted.set(slot, now);
                if (now - lastProgress >= 250_000_000L) {
                    lastProgress = now;
                    System.out.println("PROGRESS " + (delivered.get() + errors.get()));
                    System.out.flush();
                }
            }
            producer.flush();
        }
        long cpuMs = (os.getProcessCpuTime() - cpuStart) / 1_000_000L;
        long end = lastReport.get() > 0 ? lastReport.get() : System.nanoTime();

        long[] ok = Arrays.stream(latencyUs).filter(v -> v >= 0).sorted().toArray();
        System.out.println(String.format(Locale.ROOT,
                "LOAD_SUMMARY delivered=%d errors=%d elapsed_ms=%.3f cpu_ms=%d p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f first_error=%s",
                delivered.get(), errors.get(), (end - start) / 1e6, cpuMs,
                quantile(ok, 0.5), quantile(ok, 0.99), quantile(ok, 0.999),
                ok.length > 0 ? ok[ok.length - 1] / 1000.0 : 0.0,
                firstError.get() == null ? "" : firstError.get().replace('\n', ' ')));
        System.out.flush();
    }

    /** The q-quantile of sorted µs values, in ms (nearest rank). */
    private static double quantile(long[] sorted, double q) {
        if (sorted.length == 0) return 0.0;
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1000.0;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The harness's payload file: one value per line (as ProducerPerformance --payload-file reads it). */
    private static List<byte[]> readPayloads(String file) throws Exception {
        byte[] all = Files.readAllBytes(Paths.get(file));
        List<byte[]> out = new ArrayList<>();
        int from = 0;
        for (int i = 0; i <= all.length; i++) {
            if (i == all.length || all[i] == '\n') {
                if (i > from) out.add(Arrays.copyOfRange(all, from, i));
                from = i + 1;
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no payloads in " + file);
        return out;
    }

    private static Map<String, String> parseArgs(String[] argv) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < argv.length; i++) {
            if (!argv[i].startsWith("--") || i + 1 >= argv.length)
                throw new IllegalArgumentException("expected --name value pairs, got " + argv[i]);
            out.put(argv[i].substring(2), argv[++i]);
        }
        return out;
    }

    private static String required(Map<String, String> args, String name) {
        String v = args.get(name);
        if (v == null) throw new IllegalArgumentException("--" + name + " is required");
        return v;
    }
}
