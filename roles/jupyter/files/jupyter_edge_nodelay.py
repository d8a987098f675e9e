# Installed by the jupyter_edge.deploy collection (roles jupyter and jupyterhub) into Jupyter's environment.
"""Kernel websockets with TCP_NODELAY: no ~40 ms stall per execute round trip.

Tornado turns TCP_NODELAY off again after each HTTP response, and after the websocket
handshake nothing in jupyter_server turns it back on. The server's small frames after
the first (execute_input, execute_reply, status idle) then wait for the peer's delayed
ACK, about 40 ms on Linux. Set as ``ServerApp.kernel_websocket_connection_class``.
"""

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection


class NoDelayKernelWebsocketConnection(ZMQChannelsWebsocketConnection):
    """The stock kernel websocket connection, with TCP_NODELAY set once the websocket is open."""

    def connect(self):
        # Tornado's documented hook; a no-op on unix sockets.
        self.websocket_handler.set_nodelay(True)
        return super().connect()
