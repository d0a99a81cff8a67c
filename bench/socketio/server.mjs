// Socket.IO 4.8 on Node: the anchor for bench/hub_fanout.py, with the same two events as the
// python-socketio baseline (bench/baselines.py): `join` enters a room and acknowledges, `chat`
// is re-emitted to the room, its sender included. No auth, no storage. The address comes from
// HOST and PORT in the environment, as for the reference Yjs server.
import { createServer } from "node:http";
import { Server } from "socket.io";

const httpServer = createServer();
const io = new Server(httpServer, { transports: ["websocket"], serveClient: false });

io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack("ok");
  });
  socket.on("chat", (data) => {
    io.to(data.room).emit("chat", data);
  });
});

httpServer.listen(Number(process.env.PORT), process.env.HOST ?? "127.0.0.1");
