"""Materials (issue 15): albums and folders of images, video, audio and files, uploaded with tus,
processed off the event loop (metadata dropped), stored on disk or S3, served to members."""
